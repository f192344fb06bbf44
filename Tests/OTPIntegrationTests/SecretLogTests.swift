import AsyncHTTPClient
import Foundation
import NIOCore
import OTPPostgres
import OTPTesting
import Testing

/// No credential in any log line at any level: `otp serve` and `otp work` at trace, with every
/// provider's secrets set, sending on both channels.
@Suite struct SecretLogTests {
    @Test func serveAndWorkAtTraceNeverPrintACredential() async throws {
        try await TestApp.with(ownDatabase: true) { world in
            try await FakeTwilio.run { twilio in
                try await FakeMeta.run { meta in
                    let appSecret = "meta-app-secret-" + FakeVendor.randomHex(bytes: 12)
                    let verifyToken = "meta-verify-" + FakeVendor.randomHex(bytes: 12)
                    let webhookSecret =
                        "whsec_"
                        + Data((0..<24).map { _ in UInt8.random(in: 0...255) })
                        .base64EncodedString()
                    let port = try EmbeddedPostgres.freePort()
                    let environment = [
                        "DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey,
                        "OTP_HTTP_ADDRESS": "127.0.0.1:\(port)", "OTP_LOG_LEVEL": "trace",
                        "OTP_SMS_PROVIDERS": "twilio,webhook", "OTP_WHATSAPP_PROVIDERS": "meta",
                        "TWILIO_ACCOUNT_SID": twilio.accountSID, "TWILIO_AUTH_TOKEN": twilio.authToken,
                        "TWILIO_FROM": "+15005550006", "TWILIO_BASE_URL": twilio.baseURL,
                        "TWILIO_STATUS_CALLBACK_URL": "https://otp.example.com/webhooks/twilio/status",
                        "WHATSAPP_ACCESS_TOKEN": meta.accessToken, "WHATSAPP_PHONE_NUMBER_ID": meta.phoneNumberID,
                        "WHATSAPP_BASE_URL": meta.baseURL, "WHATSAPP_APP_SECRET": appSecret,
                        "WHATSAPP_VERIFY_TOKEN": verifyToken,
                        "OTP_WEBHOOK_URL": "http://127.0.0.1:9/unused", "OTP_WEBHOOK_SECRET": webhookSecret,
                    ]
                    let server = try SpawnedProcess.start(["serve"], environment: environment)
                    let worker = try SpawnedProcess.start(["work"], environment: environment)
                    defer {
                        server.stop()
                        worker.stop()
                    }
                    try await withHTTPClient { http in
                        try await waitUntil(seconds: 30) {
                            let ready = try? await http.execute(
                                HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(1))
                            return ready?.status.code == 200
                        }
                        for (channel, recipient) in [("sms", "+5511999887701"), ("whatsapp", "+5511999887702")] {
                            let status = try await postJSON(
                                world, http, port: port, path: "/otp/send",
                                ["appid": world.app.id, "recipient": recipient, "channel": channel])
                            #expect(status == 202)
                        }
                    }
                    try await waitUntil(seconds: 30) { twilio.messages.count == 1 && meta.messages.count == 1 }
                    let basic = Data("\(twilio.accountSID):\(twilio.authToken)".utf8).base64EncodedString()
                    let secrets = [
                        twilio.authToken, basic, meta.accessToken, appSecret, verifyToken, webhookSecret,
                        String(webhookSecret.dropFirst(6)), world.secretKey, world.secret,
                    ]
                    let logs = server.log + worker.log
                    #expect(logs.count > 1000, "trace logging was on")
                    for secret in secrets {
                        #expect(!logs.contains(secret), "a credential is in the logs")
                    }
                }
            }
        }
    }

    @Test func theConsoleProviderRunsOnlyWhenAllowed() async throws {
        // Its own database: a worker claims every queued delivery it can see.
        try await TestApp.with(ownDatabase: true) { world in
            let environment = [
                "DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey, "OTP_SMS_PROVIDERS": "console",
            ]
            let refused = try SpawnedProcess.start(["work"], environment: environment)
            let status = await refused.waitForExit(seconds: 20)
            #expect(status != nil && status != 0)
            #expect(refused.log.contains("provider console is invalid: it prints codes"), "\(refused.log)")
            var allowed = environment
            allowed["OTP_ALLOW_CONSOLE_PROVIDER"] = "1"
            let worker = try SpawnedProcess.start(["work"], environment: allowed)
            try await Task.sleep(for: .seconds(2))
            #expect(worker.isRunning, "\(worker.log)")
            #expect(worker.stop())
        }
    }
}
