import Foundation
import HTTPTypes
import HummingbirdTesting
import OTPAPI
import OTPCore
import OTPDashboard
import OTPHTTP
import Testing

/// Signing in and out, the login limits, sessions and form tokens.
@Suite struct SignInTests {
    @Test func signingInSetsAStrictSessionCookieAndOpensTheOverview() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            #expect(try await browser.get("/dashboard/").headers[.location] == "/dashboard/login")
            let answer = try await browser.signIn(DashboardWorld.owner)
            #expect(answer.status == .seeOther)
            #expect(answer.headers[.location] == "/dashboard/")
            let cookie = try #require(answer.headers[values: .setCookie].first { $0.hasPrefix("otp_session=") })
            for part in ["HttpOnly", "SameSite=Lax", "Path=/dashboard"] { #expect(cookie.contains(part)) }
            let overview = try await browser.get("/dashboard/")
            #expect(overview.status == .ok)
            #expect(overview.text.contains(#"<span id="whoami">owner@example.com</span>"#))
        }
    }

    static func sessionCookie(_ answer: Browser.Page) -> String? {
        answer.headers[values: .setCookie].first { $0.hasPrefix("otp_session=") }
    }

    @Test func theCookieIsSecureUnlessABrowserOnThisMachineSpokePlainHTTP() async throws {
        let world = try await DashboardWorld()
        // Over a real socket from 127.0.0.1 to "127.0.0.1:port": a Secure cookie would never come back.
        try await world.test(.live) { (browser: Browser) async throws in
            let plain = try #require(Self.sessionCookie(try await browser.signIn(DashboardWorld.owner)))
            #expect(!plain.contains("Secure"))
            // From a peer that is no trusted proxy, X-Forwarded-Proto is not believed either way.
            let claimed = Browser(client: browser.client, extraHeaders: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(Self.sessionCookie(try await claimed.signIn(DashboardWorld.owner))?.contains("Secure") == false)
        }
        // Behind a trusted proxy that speaks HTTPS to the browser, the cookie is Secure.
        try await world.test(.live, trustedProxies: TrustedProxies("127.0.0.1/32")) { (browser: Browser) async throws in
            let proxied = Browser(client: browser.client, extraHeaders: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            #expect(Self.sessionCookie(try await proxied.signIn(DashboardWorld.owner))?.contains("Secure") == true)
        }
        // The decision, for the peers a test socket cannot be: a Host header alone never decides.
        #expect(!CookieSecurity.isPlainLoopback(peer: "203.0.113.9", host: "localhost:8080", forwardedProto: nil))
        #expect(!CookieSecurity.isPlainLoopback(peer: "203.0.113.9", host: "127.0.0.1", forwardedProto: "http"))
        #expect(!CookieSecurity.isPlainLoopback(peer: nil, host: "localhost", forwardedProto: nil))
        #expect(!CookieSecurity.isPlainLoopback(peer: "127.0.0.1", host: "otp.example.com", forwardedProto: nil))
        #expect(!CookieSecurity.isPlainLoopback(peer: "127.0.0.1", host: "localhost", forwardedProto: "https"))
        #expect(CookieSecurity.isPlainLoopback(peer: "::1", host: "[::1]:8080", forwardedProto: nil))
        #expect(CookieSecurity.isPlainLoopback(peer: "127.0.0.1", host: "localhost:8080", forwardedProto: nil))
    }

    @Test func aWrongPasswordAndAnUnknownEmailGetTheSameAnswer() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            let wrong = try await browser.signIn(DashboardWorld.owner, password: "not the password at all")
            let unknown = try await browser.signIn("nobody@example.com")
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(wrong.text.contains("Wrong email or password."))
            // The same page but for the form token, which is the browser's own.
            #expect(
                wrong.text.replacingOccurrences(of: wrong.csrf ?? "", with: "")
                    == unknown.text.replacingOccurrences(of: unknown.csrf ?? "", with: ""))
            #expect(browser.cookies["otp_session"] == nil)
        }
    }

    @Test func tenFailuresLockTheEmailForTheWindowEvenWithTheRightPassword() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            for _ in 0..<LoginRules.maxFailures {
                #expect(
                    try await browser.signIn(DashboardWorld.owner, password: "wrong password!").status == .unauthorized)
            }
            let locked = try await browser.signIn(DashboardWorld.owner)
            #expect(locked.status == .tooManyRequests)
            #expect(locked.headers[.retryAfter] != nil)
            // Another email is not locked by these failures.
            #expect(try await Browser(client: browser.client).signIn(DashboardWorld.viewer).status == .seeOther)
            world.world.clock.advance(by: Double(LoginRules.failureWindowSeconds))
            #expect(try await browser.signIn(DashboardWorld.owner).status == .seeOther)
        }
    }

    @Test func successesDoNotCountTowardsTheLock() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            for _ in 0..<(LoginRules.maxFailures + 2) {
                #expect(try await Browser(client: browser.client).signIn(DashboardWorld.owner).status == .seeOther)
            }
        }
    }

    @Test func aDisabledUserCannotSignInAndLosesTheirSessions() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            #expect(try await browser.signIn(DashboardWorld.owner).status == .seeOther)
            world.users.disable(email: DashboardWorld.owner)
            #expect(try await browser.get("/dashboard/").headers[.location] == "/dashboard/login")
            #expect(try await browser.signIn(DashboardWorld.owner).status == .unauthorized)
        }
    }

    @Test func signingOutEndsTheSessionOnTheServer() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let session = try #require(browser.cookies["otp_session"])
            let page = try await browser.get("/dashboard/")
            let out = try await browser.post("/dashboard/logout", [], csrf: page.csrf)
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/dashboard/login")
            #expect(world.users.sessionCount == 0)
            // The old cookie, sent again, no longer signs anyone in.
            let replay = Browser(client: browser.client)
            replay.setCookie("otp_session", session)
            #expect(try await replay.get("/dashboard/").headers[.location] == "/dashboard/login")
        }
    }

    @Test func aSessionUnusedForTwelveHoursHasEnded() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            world.world.clock.advance(by: Double(LoginRules.idleTimeoutSeconds) - 60)
            #expect(try await browser.get("/dashboard/").status == .ok)
            // Use moved the idle clock: another almost-12 h is still fine, 12 h idle is not.
            world.world.clock.advance(by: Double(LoginRules.idleTimeoutSeconds) - 60)
            #expect(try await browser.get("/dashboard/").status == .ok)
            world.world.clock.advance(by: Double(LoginRules.idleTimeoutSeconds))
            #expect(try await browser.get("/dashboard/").headers[.location] == "/dashboard/login")
        }
    }

    @Test func formsWithoutThisSessionsTokenAreRefused() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            // The login form itself needs its token and the cookie it came with.
            let bare = try await browser.post(
                "/dashboard/login", [("email", DashboardWorld.owner), ("password", DashboardWorld.password)], csrf: nil)
            #expect(bare.status == .forbidden)
            _ = try await browser.signIn(DashboardWorld.owner)
            let path = "/dashboard/apps/\(world.world.app.id)"
            let fields = [("name", "Renamed"), ("channels", "sms"), ("default_channel", "sms")]
            #expect(try await browser.post(path, fields, csrf: nil).status == .forbidden)
            #expect(try await browser.post(path, fields, csrf: "forged-token").status == .forbidden)
            // A token of another session (another person's page) does not pass either.
            let other = try await world.test { (second: Browser) async throws in
                _ = try await second.signIn(DashboardWorld.viewer)
                return try await second.get("/dashboard/apps").csrf
            }
            #expect(try await browser.post(path, fields, csrf: other).status == .forbidden)
            #expect(try await world.world.directory.app(id: world.world.app.id, accountID: 1)?.name == "Test")
        }
    }
}
