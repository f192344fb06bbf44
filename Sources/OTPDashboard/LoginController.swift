import Foundation
import Hummingbird
import Logging
import OTPCore
import OTPHTTP

/// `GET|POST /dashboard/login`, `POST /dashboard/logout`. A wrong email and a wrong password get
/// the same page, status and (bcrypt) time; tries are limited per email and per IP.
struct LoginController {
    let sessions: SessionCookies
    let users: any DashboardUserStore

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.get("login", use: form)
        group.post("login", use: signIn)
        group.post("logout", use: signOut)
    }

    @Sendable func form(request: Request, context: OTPRequestContext) async throws -> Response {
        if (try? await sessions.signedIn(request)) != nil { return Pages.redirect(to: "/dashboard/") }
        return loginPage(request, context: context, status: .ok, message: nil)
    }

    @Sendable func signIn(request: Request, context: OTPRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        guard let browser = request.cookies[SessionCookies.signIn]?.value, SessionCookies.isToken(browser) else {
            throw DashboardError.formExpired
        }
        try sessions.check(form, expected: sessions.formToken(for: "sign-in:" + browser))
        guard let email = form["email"].map(LoginRules.normalised), let password = form.raw("password"),
            !password.isEmpty
        else {
            return loginPage(
                request, context: context, status: .unauthorized, message: Self.wrongCredentials, reuse: browser)
        }
        // Counted before the password is judged, so that concurrent tries cannot judge more than
        // the limit; a success gives its try back.
        try await users.chargeLoginTry(email: email, ip: context.ip)
        let credentials = try await users.credentials(email: email)
        let matches = try await Passwords.verify(password, hash: credentials?.passwordHash ?? Passwords.unknownUserHash)
        guard matches, let credentials, !credentials.disabled else {
            context.logger.info("dashboard sign-in refused")
            return loginPage(
                request, context: context, status: .unauthorized, message: Self.wrongCredentials, reuse: browser)
        }
        try await users.refundLoginTry(email: email, ip: context.ip)
        let token = SessionToken.make()
        try await users.startSession(token, userID: credentials.user.id)
        var response = Pages.redirect(to: "/dashboard/")
        response.setCookie(
            SessionCookies.cookie(SessionCookies.session, value: token.value, request: request, context: context))
        response.setCookie(
            SessionCookies.cookie(SessionCookies.signIn, value: "", request: request, context: context, maxAge: 0))
        return response
    }

    @Sendable func signOut(request: Request, context: OTPRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        let who = try await sessions.signedIn(request)
        try sessions.check(form, expected: who.formToken)
        try await users.endSession(who.token)
        var response = Pages.redirect(to: "/dashboard/login")
        response.setCookie(
            SessionCookies.cookie(SessionCookies.session, value: "", request: request, context: context, maxAge: 0))
        return response
    }

    static let wrongCredentials = "Wrong email or password."

    /// The login form, with a sign-in cookie whose HMAC is the form's token.
    private func loginPage(
        _ request: Request, context: OTPRequestContext, status: HTTPResponse.Status, message: String?,
        reuse browser: String? = nil
    ) -> Response {
        let value = browser ?? SessionToken.make().value
        var model: [String: Any] = ["csrf": sessions.formToken(for: "sign-in:" + value)]
        if let message { model["error"] = message }
        var response = Pages.render("login", title: "Sign in", model, who: nil, status: status)
        response.setCookie(
            SessionCookies.cookie(SessionCookies.signIn, value: value, request: request, context: context))
        return response
    }
}
