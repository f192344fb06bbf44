import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import OTPCore
import OTPHTTP

/// The signed-in person of a request, with the session that proves it.
package struct SignedIn: Sendable {
    package var user: DashboardUser
    let token: SessionToken
    /// The token every form of this session carries.
    let formToken: String
}

/// Sessions by cookie, and the CSRF tokens of forms. A form's token is an HMAC of the session's
/// cookie value (of a sign-in cookie before there is a session), so nothing about it is stored,
/// another site cannot know it, and it dies with its session.
struct SessionCookies: Sendable {
    static let session = "otp_session"
    /// Set by the login page so that its form has a token before anyone signed in.
    static let signIn = "otp_sign_in"

    let users: any DashboardUserStore
    let formKey: SymmetricKey

    func signedIn(_ request: Request) async throws -> SignedIn {
        guard let value = request.cookies[Self.session]?.value, Self.isToken(value) else {
            throw DashboardError.signInRequired
        }
        let token = SessionToken(value: value)
        guard let user = try await users.session(token) else { throw DashboardError.signInRequired }
        return SignedIn(user: user, token: token, formToken: formToken(for: "session:" + value))
    }

    /// The signed-in person when the form carries this session's token; a change also needs an owner.
    func changing(_ request: Request, form: FormData) async throws -> SignedIn {
        let who = try await signedIn(request)
        try check(form, expected: who.formToken)
        guard who.user.mayChange else { throw DashboardError.viewerCannotChange }
        return who
    }

    func check(_ form: FormData, expected: String) throws {
        guard let sent = form["csrf"], constantTimeEquals(Data(sent.utf8), Data(expected.utf8)) else {
            throw DashboardError.formExpired
        }
    }

    func formToken(for subject: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(subject.utf8), using: formKey)
        return Data(mac).base64URLEncoded()
    }

    /// The session cookie's rules: HttpOnly, SameSite=Lax, only under /dashboard, and Secure
    /// unless a browser on this machine reached us over plain HTTP.
    static func cookie(
        _ name: String, value: String, request: Request, context: OTPRequestContext, maxAge: Int? = nil
    ) -> Cookie {
        let plain = CookieSecurity.isPlainLoopback(
            peer: context.peerIP, host: request.head.authority, forwardedProto: context.forwardedProto)
        return Cookie(
            name: name, value: value, maxAge: maxAge, path: "/dashboard", secure: !plain, httpOnly: true,
            sameSite: .lax)
    }

    /// Cookie values this service makes: letters and digits only.
    static func isToken(_ value: String) -> Bool {
        (20...100).contains(value.utf8.count)
            && value.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
    }
}

/// When the dashboard's cookies may go without `Secure`.
package enum CookieSecurity {
    /// True only when the connection comes from a loopback address (the socket's peer, which no
    /// header can change), the browser asked for a loopback host, and no trusted proxy
    /// (`forwardedProto`, set only for one) says the browser spoke HTTPS. A `Host` header alone, which
    /// any client writes, never turns Secure off.
    package static func isPlainLoopback(peer: String?, host: String?, forwardedProto: String?) -> Bool {
        guard let peer, IPAddress(peer)?.isLoopback == true else { return false }
        if forwardedProto == "https" { return false }
        let authority = (host ?? "").lowercased()
        let name: Substring =
            authority.hasPrefix("[")
            ? authority.dropFirst().prefix { $0 != "]" } : authority.split(separator: ":", maxSplits: 1).first ?? ""
        return name == "localhost" || name.hasSuffix(".localhost") || IPAddress(String(name))?.isLoopback == true
    }
}
