import Foundation
import HummingbirdTesting
import OTPClient
import OTPCore
import Testing

/// The Swift client generated from the served OpenAPI document, against the real router on a
/// socket: a change to the document that breaks clients breaks these (or the build).
@Suite struct ClientLibraryTests {
    /// Runs `body` with the test's server listening on 127.0.0.1 and its base URL.
    func withServer(_ world: TestApp, _ body: @Sendable (URL) async throws -> Void) async throws {
        try await world.test(.live) { client in
            let port = try #require(client.port)
            try await body(URL(string: "http://127.0.0.1:\(port)")!)
        }
    }

    @Test func sendsVerifiesAndReadsTheStatusWithEachStyleOfCredentials() async throws {
        try await TestApp.with { world in
            try await withServer(world) { url in
                let token = Data("\(world.keyID):\(world.secret)".utf8).base64EncodedString()
                for credentials in [
                    Credentials.basic(keyID: world.keyID, secret: world.secret),
                    .apiKey(keyID: world.keyID, secret: world.secret), .bearer(token),
                ] {
                    let otp = OTPService(serverURL: url, credentials: credentials)
                    world.codes.push("482913")
                    let sent = try await otp.send(appID: world.app.id, to: "+5511987654321")
                    #expect(sent.status == .pending && sent.deliveryStatus == .queued && sent.channel == .sms)

                    let wrong = try await otp.verify(
                        appID: world.app.id, verificationID: sent.verificationId, code: "000000")
                    #expect(!wrong.verified && wrong.code == .invalidCode && wrong.attemptsRemaining == 4)
                    let right = try await otp.verify(
                        appID: world.app.id, verificationID: sent.verificationId, code: "482913")
                    #expect(right.verified && right.code == .verified && right.status == .verified)

                    let status = try await otp.api.getVerificationStatus(
                        query: .init(appid: world.app.id, verificationId: sent.verificationId)
                    ).ok.body.json
                    // `attempts` counts the wrong codes.
                    #expect(status.status == .verified && status.attempts == 1 && status.sends == 1, "\(status)")
                }
            }
        }
    }

    @Test func refusalsThrowTheContractsError() async throws {
        try await TestApp.with { world in
            try await withServer(world) { url in
                let otp = OTPService(serverURL: url, credentials: .basic(keyID: world.keyID, secret: world.secret))
                let invalid = await #expect(throws: OTPServiceError.self) {
                    try await otp.send(appID: world.app.id, to: "+551100")
                }
                #expect(
                    invalid?.status == 400 && invalid?.detail?.code == .invalidRecipient,
                    "\(String(describing: invalid))")

                let stranger = OTPService(serverURL: url, credentials: .basic(keyID: world.keyID, secret: "wrong"))
                let unauthorized = await #expect(throws: OTPServiceError.self) {
                    try await stranger.send(appID: world.app.id, to: "+5511987654321")
                }
                #expect(unauthorized?.status == 401 && unauthorized?.detail?.code == .unauthorized)

                let missing = try await otp.verify(
                    appID: world.app.id, verificationID: "otp_01hzx4a7b2c3d4e5f6g7h8j9k0", code: "123456")
                #expect(!missing.verified && missing.code == .notFound)
            }
        }
    }

    /// Every route an app's key calls, through the generated client only: each answer must parse
    /// into the document's types, so a route whose answer drifts from the document fails here.
    @Test func everyAppRouteAnswersAsTheDocumentSays() async throws {
        // The send and the resend count in one window of the limit the test reads back.
        try await awayFromWindowEnd()
        let policy: @Sendable (inout AppPolicy) -> Void = { policy in
            policy.resendCooldownSeconds = 0
            policy.rateLimits[RateLimitRule.recipient10m.rawValue] = 5
        }
        try await TestApp.with(configure: policy) { world in
            try await withServer(world) { url in
                let otp = OTPService(serverURL: url, credentials: .basic(keyID: world.keyID, secret: world.secret))
                let api = otp.api
                let appID = world.app.id
                world.codes.push("271828")
                let sent = try await otp.send(appID: appID, to: "+5511987650001", idempotencyKey: "client-1")
                let replay = try await otp.send(appID: appID, to: "+5511987650001", idempotencyKey: "client-1")
                #expect(replay.verificationId == sent.verificationId)
                let id = sent.verificationId

                world.codes.push("314159")
                let resent = try await api.resendCode(body: .json(.init(appid: appID, verificationId: id)))
                    .accepted.body.json
                #expect(resent.verificationId == id)
                #expect(try await otp.verify(appID: appID, verificationID: id, code: "271828").code == .invalidCode)
                #expect(try await otp.verify(appID: appID, verificationID: id, code: "314159").verified)

                let status = try await api.getVerificationStatus(query: .init(appid: appID, verificationId: id))
                    .ok.body.json
                #expect(status.status == .verified && status.sends == 2)
                let listed = try await api.listVerifications(query: .init(appid: appID, limit: 10)).ok.body.json
                #expect(listed.items.map(\.verificationId) == [id])
                let events = try await api.listEvents(query: .init(appid: appID, verificationId: id)).ok.body.json
                #expect(
                    events.items.map(\.event) == [
                        "verify_succeeded", "verify_failed", "delivery_queued", "resend_requested", "delivery_queued",
                        "send_requested",
                    ])
                let attempts = try await api.listAttempts(query: .init(appid: appID, verificationId: id)).ok.body
                    .json
                let verifyAttempts = attempts.items.compactMap { item -> Bool? in
                    if case .verify(let attempt) = item { return attempt.success } else { return nil }
                }
                #expect(verifyAttempts.sorted { !$0 && $1 } == [false, true], "\(attempts.items)")
                let limits = try await api.getRateLimits(query: .init(appid: appID, recipient: "+5511987650001"))
                    .ok.body.json
                #expect(
                    limits.rules.map { "\($0.rule.rawValue) \($0.used)/\($0.limit)" } == ["recipient_10m 2/5"],
                    "\(limits.rules)")
                let report = try await api.getReport(query: .init(appid: appID, groupBy: .channel, format: .json))
                    .ok.body.json
                #expect(report.totals.verifications == 1 && report.totals.verified == 1, "\(report.totals)")

                let created = try await api.createTemplate(
                    body: .json(.init(appid: appID, name: "login", locale: "en", body: "{{code}} is your code"))
                )
                .created.body.json
                #expect(created.version == 1 && created.encoding == .gsm7)
                let templateID = created.id
                let templates = try await api.listTemplates(query: .init(appid: appID)).ok.body.json
                #expect(templates.items.map(\.id) == [templateID])
                let updated = try await api.updateTemplate(
                    path: .init(id: templateID), body: .json(.init(body: "Código: {{code}}"))
                ).ok.body.json
                #expect(updated.version == 2 && updated.encoding == .ucs2)
                #expect(try await api.getTemplate(path: .init(id: templateID)).ok.body.json == updated)
                let preview = try await api.previewTemplate(
                    path: .init(id: templateID), body: .json(.init(appName: "Shop"))
                ).ok.body.json
                #expect(preview.encoding == .ucs2 && preview.segments == 1 && preview.text.hasPrefix("Código: "))
                _ = try await api.deleteTemplate(path: .init(id: templateID)).noContent
                let gone = try await api.getTemplate(path: .init(id: templateID))
                guard case .notFound = gone else { Issue.record("deleted template: \(gone)"); return }

                #expect(try await api.healthz().ok.body.json.status == .ok)
                _ = try await api.openapi().ok
                _ = try await api.metrics().ok
            }
        }
    }
}
