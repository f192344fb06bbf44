import Foundation
import HTTPTypes
import OTPCore
import OTPTesting
import Testing

/// What signed-in people see and may change: scoping, roles, escaping, headers, keys, settings.
@Suite struct PageTests {
    @Test func anotherAccountsAppsKeysAndVerificationsAreNotFound() async throws {
        let world = try await DashboardWorld()
        let theirKey = try world.world.directory.createKey(accountID: 2, appIDs: [world.otherApp.id])
        let theirs = try await Self.send(world, app: world.otherApp)
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let page = try await browser.get("/dashboard/apps")
            #expect(!page.text.contains(world.otherApp.id))
            #expect(try await browser.get("/dashboard/apps/\(world.otherApp.id)").status == .notFound)
            #expect(try await browser.get("/dashboard/verifications/\(theirs)").status == .notFound)
            let revoke = try await browser.post("/dashboard/keys/\(theirKey.keyID)/revoke", [], csrf: page.csrf)
            #expect(revoke.status == .notFound)
            #expect(try await world.world.directory.apiKey(id: theirKey.keyID)?.revoked == false)
            let save = try await browser.post(
                "/dashboard/apps/\(world.otherApp.id)", [("name", "Mine now")], csrf: page.csrf)
            #expect(save.status == .notFound)
            #expect(try await browser.get("/dashboard/no-such-page").status == .notFound)
        }
    }

    @Test func aViewerSeesEverythingAndChangesNothing() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.viewer)
            let app = try await browser.get("/dashboard/apps/\(world.world.app.id)")
            #expect(app.status == .ok)
            #expect(!app.text.contains(#"id="app-save""#))
            for path in [
                "/dashboard/", "/dashboard/keys", "/dashboard/templates", "/dashboard/verifications",
                "/dashboard/logs", "/dashboard/reports",
            ] {
                #expect(try await browser.get(path).status == .ok, "\(path)")
            }
            let save = try await browser.post(
                "/dashboard/apps/\(world.world.app.id)", [("name", "Changed"), ("channels", "sms")], csrf: app.csrf)
            #expect(save.status == .forbidden)
            let key = try await browser.post("/dashboard/keys", [("apps", world.world.app.id)], csrf: app.csrf)
            #expect(key.status == .forbidden)
            #expect(world.world.directory.keys(accountID: 1).count == 1)
            #expect(try await world.world.directory.app(id: world.world.app.id, accountID: 1)?.name == "Test")
        }
    }

    @Test func whatPeopleTypeIsShownAsText() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let list = try await browser.get("/dashboard/apps")
            let made = try await browser.post(
                "/dashboard/apps", [("name", #"<script>alert("x")</script>"#)], csrf: list.csrf)
            #expect(made.status == .seeOther)
            let apps = try await browser.get("/dashboard/apps")
            #expect(!apps.text.contains("<script>alert"))
            #expect(apps.text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
            let logs = try await browser.get("/dashboard/logs?recipient=%3Cimg%20src%3Dx%3E")
            #expect(!logs.text.contains("<img src=x>"))

            // A quote with a combining mark after it is one Character but still a quote to a browser.
            let echoed = try await browser.get(
                "/dashboard/verifications?recipient=%22%CC%81%20autofocus%20onfocus%3Dalert(1)%20x%3D%22")
            let (raw, escaped) = ("\"\u{301} autofocus", "&quot;\u{301} autofocus")
            #expect(echoed.status == .ok)
            #expect(!echoed.text.contains(raw), "the query's quote is escaped")
            #expect(echoed.text.contains(escaped))
            let templates = try await browser.get("/dashboard/templates")
            let name = "x\"\u{301} onmouseover=alert(1) y=\""
            let saved = try await browser.post(
                "/dashboard/templates",
                [
                    ("appid", world.world.app.id), ("name", name), ("locale", "en"), ("body", "Code {{code}}"),
                    ("action", "save"),
                ], csrf: templates.csrf)
            #expect(saved.status == .seeOther)
            let listed = try await browser.get("/dashboard/templates")
            let (rawName, escapedName) = ("\"\u{301} onmouseover", "x&quot;\u{301} onmouseover")
            #expect(!listed.text.contains(rawName), "the template's name is escaped")
            #expect(listed.text.contains(escapedName))
        }
    }

    @Test func namesWithControlCharactersAreRefused() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let list = try await browser.get("/dashboard/apps")
            let refused = try await browser.post(
                "/dashboard/apps", [("name", "Acme\n\u{1B}]0;pwned\u{07}")], csrf: list.csrf)
            #expect(refused.status == .badRequest && refused.text.contains("no control characters"))
        }
    }

    @Test func everyPageSendsTheProtectiveHeaders() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            let login = try await browser.get("/dashboard/login")
            _ = try await browser.signIn(DashboardWorld.owner)
            for page in [login, try await browser.get("/dashboard/"), try await browser.get("/dashboard/nothing")] {
                #expect(page.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'self'") == true)
                #expect(page.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
            }
            #expect(
                try await browser.get("/dashboard/static/dashboard.css").headers[.contentType]?.hasPrefix("text/css")
                    == true)
        }
    }

    @Test func savedSettingsChangeThePolicyAndAreAudited() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let path = "/dashboard/apps/\(world.world.app.id)"
            let form = try await browser.get(path)
            let fields: [(String, String)] = [
                ("name", "Shop"), ("code_length", "8"), ("ttl", "240"), ("max_attempts", "3"), ("max_sends", "4"),
                ("resend_cooldown", "45"), ("channels", "sms"), ("default_channel", "sms"),
                ("fallback_channel", "none"), ("resend_policy", "same_code"), ("rate_limit.recipient_10m", "2"),
                ("countries_mode.sms", "allow"), ("countries.sms", "br, pt"), ("refuse_line_types.sms", "voip"),
                ("web_otp_domain", "shop.example.com"), ("do_not_share", "on"),
            ]
            let saved = try await browser.post(path, fields, csrf: form.csrf)
            #expect(saved.status == .seeOther)
            #expect(try await browser.get(saved.headers[.location] ?? "").text.contains(#"id="notice""#))
            let app = try #require(try await world.world.directory.app(id: world.world.app.id, accountID: 1))
            #expect(app.name == "Shop")
            #expect(app.policy.codeLength == 8 && app.policy.ttlSeconds == 240 && app.policy.maxAttempts == 3)
            #expect(app.policy.channels == [.sms])
            #expect(app.policy.resendPolicy == .sameCode)
            #expect(app.policy.rateLimits["recipient_10m"] == 2)
            #expect(app.policy.countries[.sms] == .allow(["BR", "PT"]))
            #expect(app.policy.refusedLineTypes[.sms] == [.voip])
            #expect(app.policy.messages.extras.webOTPDomain?.value == "shop.example.com")
            #expect(app.policy.messages.extras.doNotShare)
            let event = try #require(world.world.store.events.last)
            #expect(event.kind == .appUpdated)
            #expect(event.actor.keyID == "user:owner@example.com")
        }
    }

    @Test func aTestNumbersScriptedOutcomeIsSetAndShownOnTheAppPage() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let path = "/dashboard/apps/\(world.world.app.id)"
            let form = try await browser.get(path)
            let fields: [(String, String)] = [
                ("name", "Test"), ("code_length", "6"), ("ttl", "300"), ("max_attempts", "5"), ("max_sends", "5"),
                ("resend_cooldown", "30"), ("channels", "sms"), ("default_channel", "sms"),
                ("fallback_channel", "none"), ("resend_policy", "new_code"),
                ("test_numbers", "+15555550100=123456:undelivered\n+15555550101=654321"),
            ]
            let saved = try await browser.post(path, fields, csrf: form.csrf)
            #expect(saved.status == .seeOther, "\(saved.text)")
            let app = try #require(try await world.world.directory.app(id: world.world.app.id, accountID: 1))
            #expect(app.policy.testOutcomes == ["+15555550100": .undelivered])
            let page = try await browser.get(path).text
            #expect(page.contains("remove +15555550100 (scripted: undelivered)"))
            #expect(page.contains("remove +15555550101</label>"), "a plain test number shows no outcome")
        }
    }

    @Test func aPolicyThatBreaksARuleIsRefusedWithTheReason() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let path = "/dashboard/apps/\(world.world.app.id)"
            let form = try await browser.get(path)
            for (fields, reason) in [
                ([("code_length", "99"), ("channels", "sms")], "code length must be 6 to 10"),
                ([("ttl", "soon"), ("channels", "sms")], "ttl must be a whole number"),
                ([("code_length", "6")], "at least one channel"),
            ] {
                let refused = try await browser.post(path, fields, csrf: form.csrf)
                #expect(refused.status == .unprocessableContent)
                #expect(refused.text.contains(#"id="form-error""#) && refused.text.contains(reason), "\(reason)")
            }
            #expect(try await world.world.directory.app(id: world.world.app.id, accountID: 1)?.policy.codeLength == 6)
        }
    }

    @Test func aNewKeysSecretIsShownOnceAndWorksUntilRevoked() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let keys = try await browser.get("/dashboard/keys")
            let made = try await browser.post("/dashboard/keys", [("apps", world.world.app.id)], csrf: keys.csrf)
            #expect(made.status == .ok)
            #expect(made.headers[.cacheControl] == "no-store")
            let keyID = try #require(Self.element("new-key-id", in: made.text))
            let secret = try #require(Self.element("new-key-secret", in: made.text))
            #expect(!(try await browser.get("/dashboard/keys").text.contains(secret)))
            let auth: HTTPFields = [.authorization: "Basic " + Data("\(keyID):\(secret)".utf8).base64EncodedString()]
            let body = #"{"appid":"\#(world.world.app.id)","recipient":"+5511999887766"}"#
            #expect(try await browser.client.post("/otp/send", body, headers: auth).status == .accepted)
            let revoked = try await browser.post("/dashboard/keys/\(keyID)/revoke", [], csrf: keys.csrf)
            #expect(revoked.status == .seeOther)
            #expect(try await browser.client.post("/otp/send", body, headers: auth).status == .unauthorized)
            let kinds = world.world.store.events.filter { $0.actor.keyID == "user:owner@example.com" }.map(\.kind)
            #expect(kinds == [.keyCreated, .keyRevoked])
        }
    }

    @Test func aWebhookSecretIsShownOnceWhenMadeAndKeptWhenTheURLChanges() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let path = "/dashboard/apps/\(world.world.app.id)"
            let form = try await browser.get(path)
            let base: [(String, String)] = [("channels", "sms"), ("default_channel", "sms")]
            let refused = try await browser.post(
                path, base + [("webhook_url", "http://hooks.example.com/otp")], csrf: form.csrf)
            #expect(refused.status == .badRequest && refused.text.contains("must be https"))
            // Nothing inside the operator's network, however it is spelled: 400, nothing saved.
            for url in [
                "https://169.254.169.254/latest/meta-data/", "https://0x7f.1/x", "https://[::ffff:127.0.0.1]/x",
                "http://127.0.0.1:8008/reinitialize", "https://localhost./x",
            ] {
                let answer = try await browser.post(path, base + [("webhook_url", url)], csrf: form.csrf)
                #expect(answer.status == .badRequest && answer.text.contains("may not point at"), "\(url)")
                #expect(
                    try await world.world.directory.app(id: world.world.app.id, accountID: 1)?.policy.webhook == nil)
            }

            let made = try await browser.post(
                path, base + [("webhook_url", "https://hooks.example.com/otp")], csrf: form.csrf)
            #expect(made.status == .ok)
            #expect(made.headers[.cacheControl] == "no-store")
            let secret = try #require(Self.element("new-webhook-secret", in: made.text))
            #expect(secret.hasPrefix("whsec_"))
            let app = try #require(try await world.world.directory.app(id: world.world.app.id, accountID: 1))
            let sealed = try #require(app.policy.webhook?.sealedSecret)
            #expect(try AppWebhook.open(sealed, appID: app.id, sealer: CodeSealer(keys: world.world.keys)) == secret)
            let page = try await browser.get(path)
            #expect(page.text.contains("https://hooks.example.com/otp") && !page.text.contains(secret))

            // A new URL keeps the secret its receiver checks with; rotating makes a new one, shown once.
            let moved = try await browser.post(
                path, base + [("webhook_url", "https://hooks.example.com/v2")], csrf: form.csrf)
            #expect(moved.status == .seeOther)
            #expect(
                try await world.world.directory.app(id: app.id, accountID: 1)?.policy.webhook?.sealedSecret == sealed)
            let rotated = try await browser.post(
                path, base + [("webhook_url", "https://hooks.example.com/v2"), ("rotate_webhook_secret", "on")],
                csrf: form.csrf)
            let second = try #require(Self.element("new-webhook-secret", in: rotated.text))
            #expect(second != secret)
            let off = try await browser.post(path, base + [("webhook_url", "")], csrf: form.csrf)
            #expect(off.status == .seeOther)
            #expect(try await world.world.directory.app(id: app.id, accountID: 1)?.policy.webhook == nil)
        }
    }

    @Test func aTemplatePreviewShowsTheMessageItsEncodingAndSegments() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let page = try await browser.get("/dashboard/templates")
            let fields = [
                ("appid", world.world.app.id), ("name", "login"), ("locale", "ru"),
                ("body", "Код {{code}} для {{app_name}}"), ("action", "preview"),
            ]
            let preview = try await browser.post("/dashboard/templates", fields, csrf: page.csrf)
            #expect(preview.status == .ok)
            #expect(Self.element("preview-text", in: preview.text) == "Код 123456 для Acme")
            #expect(Self.element("preview-encoding", in: preview.text) == "UCS-2")
            #expect(Self.element("preview-segments", in: preview.text) == "1")
            let live = try await browser.get("/dashboard/templates/preview?body=No%20code%20here")
            #expect(live.text.contains("code"))
            #expect(live.text.contains("\"error\""))
            let saved = try await browser.post(
                "/dashboard/templates", fields.dropLast() + [("action", "save")], csrf: page.csrf)
            #expect(saved.status == .seeOther)
            let list = try await world.world.templates.list(appIDs: [world.world.app.id], limit: 10, cursor: nil)
            #expect(list.items.map(\.body) == ["Код {{code}} для {{app_name}}"])
            #expect(world.world.store.events.last?.kind == .templateCreated)
        }
    }

    @Test func aVerificationsPageMasksTheRecipient() async throws {
        let world = try await DashboardWorld()
        let sent = try await Self.send(world, app: world.world.app)
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.viewer)
            let list = try await browser.get("/dashboard/verifications")
            #expect(list.text.contains(sent))
            let page = try await browser.get("/dashboard/verifications/\(sent)")
            #expect(page.status == .ok)
            #expect(page.text.contains("+*********7766"))
            #expect(!page.text.contains("5511999887766"))
            #expect(page.text.contains("send_requested"))
            #expect(try await browser.get("/dashboard/verifications?from=yesterday").status == .badRequest)
        }
    }

    @Test func aVerificationThatConfirmsAPaymentShowsItsAmountAndPayee() async throws {
        let world = try await DashboardWorld()
        world.world.codes.push("482913")
        var parameters = SendParameters(
            recipient: "+5511999887766", channel: nil, from: nil, template: nil, locale: "en", codeLength: nil,
            expiresIn: nil, metadata: nil)
        parameters.transaction = TransactionInput(amount: "149.90", currency: "EUR", payee: "ACME Travel")
        let outcome = try await world.world.dependencies.service.send(
            app: world.world.app, parameters, idempotency: nil, actor: Caller(keyID: "ak_test", ip: nil))
        guard case .created(let result) = outcome else { throw TestFailure("the send was not created") }
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.viewer)
            let page = try await browser.get("/dashboard/verifications/\(result.verificationID)")
            #expect(Self.element("transaction", in: page.text) == "€149.90 (EUR) to ACME Travel", "\(page.text)")
        }
    }

    @Test func theFraudGuardIsSetOnTheAppPageAndItsDecisionsListedOnTheFraudPage() async throws {
        let world = try await DashboardWorld()
        try await world.test { (browser: Browser) async throws in
            _ = try await browser.signIn(DashboardWorld.owner)
            let path = "/dashboard/apps/\(world.world.app.id)"
            let form = try await browser.get(path)
            #expect(
                form.text.contains(#"id="fraud-guard""#) && form.text.contains(#"name="fraud_threshold.prefix_floor""#))
            let refused = try await browser.post(
                path, [("channels", "sms"), ("fraud_guard", "sometimes")], csrf: form.csrf)
            #expect(refused.status == .unprocessableContent && refused.text.contains("off, monitor or enforce"))
            let saved = try await browser.post(
                path,
                [
                    ("channels", "sms"), ("fraud_guard", "enforce"), ("fraud_threshold.prefix_floor", "2"),
                    ("fraud_threshold.tolerance", "0.5"), ("fraud_allow", "+4479*\nGB\n198.51.100.0/24"),
                    ("spend_limit_1d", "12.50"),
                ], csrf: form.csrf)
            #expect(saved.status == .seeOther)
            let app = try #require(try await world.world.directory.app(id: world.world.app.id, accountID: 1))
            #expect(app.policy.fraud.mode == .enforce)
            #expect(app.policy.fraud.thresholds.prefixFloor == 2 && app.policy.fraud.thresholds.tolerance == 0.5)
            #expect(app.policy.fraud.allow.map(\.text) == ["+4479*", "GB", "198.51.100.0/24"])
            #expect(app.policy.spendLimitPerDay == Decimal(string: "12.5"))

            // Four sends to one block, none verified: the floor of 2 lets two through.
            var refusals = 0
            for n in 0..<4 {
                world.world.codes.push("482913")
                let parameters = SendParameters(
                    recipient: "+55119998800\(n)0", channel: nil, from: nil, template: nil, locale: nil,
                    codeLength: nil, expiresIn: nil, metadata: nil)
                do {
                    _ = try await world.world.dependencies.service.send(
                        app: app, parameters, idempotency: nil, actor: Caller(keyID: "ak_test", ip: "192.0.2.9"))
                } catch OTPFailure.fraudBlocked(let rule) {
                    #expect(rule == "prefix")
                    refusals += 1
                }
            }
            #expect(refusals == 2)
            let page = try await browser.get("/dashboard/fraud")
            #expect(page.status == .ok)
            #expect(page.text.contains(#"data-scope="prefix:+55119998""#), "\(page.text)")
            #expect(page.text.contains(#"<td class="blocked">2</td>"#))
            #expect(page.text.contains("<svg"))
        }
    }

    /// A verification of `app` made through the core service, as the API makes them.
    static func send(_ world: DashboardWorld, app: App) async throws -> String {
        world.world.codes.push("482913")
        let parameters = SendParameters(
            recipient: "+5511999887766", channel: nil, from: nil, template: nil, locale: nil, codeLength: nil,
            expiresIn: nil, metadata: nil)
        let outcome = try await world.world.dependencies.service.send(
            app: app, parameters, idempotency: nil, actor: Caller(keyID: "ak_test", ip: nil))
        guard case .created(let result) = outcome else { throw TestFailure("the send was not created") }
        return result.verificationID
    }

    /// The text of the element with this id (no nested tags).
    static func element(_ id: String, in html: String) -> String? {
        guard let start = html.range(of: #"id="\#(id)""#) else { return nil }
        guard let open = html[start.upperBound...].firstIndex(of: ">") else { return nil }
        let rest = html[html.index(after: open)...]
        return String(rest.prefix { $0 != "<" })
    }
}
