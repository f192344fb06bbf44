import Foundation
import HummingbirdTesting
import OTPClient
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
}
