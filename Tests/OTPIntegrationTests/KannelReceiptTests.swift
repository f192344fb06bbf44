import Foundation
import HummingbirdTesting
import OTPCore
import OTPPostgres
import OTPTesting
import Testing

/// `GET /webhooks/kannel/status`: Kannel signs nothing, so only a URL carrying the token the
/// provider made for that message moves it; the report types map as Kannel documents them. (The
/// provider itself runs against real Kannel processes in `.ci/kannel`.)
@Suite struct KannelReceiptTests {
    @Test func onlyATokenForTheMessageMovesItAndTheTypesMapAsKannelDocumentsThem() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                var ids: [String] = []
                for recipient in ["+5511999770001", "+5511999770002"] {
                    let id = try await world.send(client, recipient: recipient)
                    // As the worker leaves a message Kannel accepted.
                    try await world.client.query(
                        """
                        UPDATE otp.deliveries SET state = 'sent', provider = 'kannel',
                            provider_message_id = 'kannel-' || id, sent_at = now(),
                            sealed_code = NULL
                        WHERE verification_id = \(id)
                        """, logger: quietLogger)
                    ids.append(id)
                }
                func messageID(_ verificationID: String) async throws -> String {
                    try await world.scalar(
                        "SELECT provider_message_id FROM otp.deliveries WHERE verification_id = \(verificationID)")
                }
                func report(_ message: String, token: String, type: String) async throws -> TestResponse {
                    try await client.get(
                        "/webhooks/kannel/status?message=\(message)&token=\(token)&type=\(type)", headers: [:])
                }
                func state(_ verificationID: String) async throws -> String? {
                    try await world.status(client, verificationID).json["delivery_status"] as? String
                }
                let secret = try #require(world.receiptSettings.kannelReceiptSecret?.exposed)
                let first = try await messageID(ids[0])
                let second = try await messageID(ids[1])
                let firstToken = ReceiptToken.make(messageID: first, secret: secret)

                // Another message's token, a token of another secret, none: refused, nothing moves.
                #expect(try await report(second, token: firstToken, type: "1").status == .unauthorized)
                let forged = ReceiptToken.make(messageID: second, secret: "not-the-secret")
                #expect(try await report(second, token: forged, type: "1").status == .unauthorized)
                #expect(
                    try await client.get("/webhooks/kannel/status?message=\(second)&type=1", headers: [:])
                        .status == .unauthorized)
                #expect(try await state(ids[1]) == "sent")

                // Queued (4) and accepted by the SMSC (8) say nothing new; delivered (1) does.
                #expect(try await report(first, token: firstToken, type: "8").status == .noContent)
                #expect(try await state(ids[0]) == "sent")
                #expect(try await report(first, token: firstToken, type: "x").status == .badRequest)
                #expect(try await report(first, token: firstToken, type: "1").status == .noContent)
                #expect(try await state(ids[0]) == "delivered")

                // Refused by the SMSC (16): failed, with the report's type as the reason.
                let secondToken = ReceiptToken.make(messageID: second, secret: secret)
                #expect(try await report(second, token: secondToken, type: "16").status == .noContent)
                #expect(try await state(ids[1]) == "failed")
                let reason: String = try await world.scalar(
                    "SELECT last_error FROM otp.deliveries WHERE verification_id = \(ids[1])")
                #expect(reason == "kannel_report_16")
            }
        }
    }

    /// Kannel's fake SMSC reports in milliseconds: the report can come before the worker recorded
    /// the message as sent. It is held, and applied once the delivery is `sent`.
    @Test func aReportThatBeatsTheWorkersCommitIsHeldAndAppliedAfterIt() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let id = try await world.send(client, recipient: "+5511999770003")
                let deliveryID: Int = try await world.scalar(
                    "SELECT id FROM otp.deliveries WHERE verification_id = \(id)")
                let message = "kannel-\(deliveryID)"
                let secret = try #require(world.receiptSettings.kannelReceiptSecret?.exposed)
                let token = ReceiptToken.make(messageID: message, secret: secret)
                let early = try await client.get(
                    "/webhooks/kannel/status?message=\(message)&token=\(token)&type=1", headers: [:])
                #expect(early.status == .noContent)
                #expect(try await world.status(client, id).json["delivery_status"] as? String == "queued")
                let store = PostgresReceiptStore(client: world.runtimeClient, logger: quietLogger)
                #expect(try await store.applyHeld() == 0, "nothing to apply while the message is not sent")

                try await world.client.query(
                    """
                    UPDATE otp.deliveries SET state = 'sent', provider = 'kannel', provider_message_id = \(message),
                        sent_at = now(), sealed_code = NULL
                    WHERE id = \(deliveryID)
                    """, logger: quietLogger)
                #expect(try await store.applyHeld() == 1)
                #expect(try await world.status(client, id).json["delivery_status"] as? String == "delivered")
                let events: [String] = try await world.rows(
                    "SELECT event FROM otp.events WHERE verification_id = \(id) ORDER BY id")
                #expect(events.last == "delivery_delivered")
                #expect(try await store.applyHeld() == 0, "applied once")
                let held: Int = try await world.scalar(
                    "SELECT count(*)::bigint FROM otp.held_receipts WHERE provider_message_id = \(message)")
                #expect(held == 0)
            }
        }
    }

    @Test func tokensAreBoundToTheirMessageAndSecret() {
        let token = ReceiptToken.make(messageID: "kannel-42", secret: "s")
        #expect(ReceiptToken.matches(token, messageID: "kannel-42", secret: "s"))
        #expect(!ReceiptToken.matches(token, messageID: "kannel-43", secret: "s"))
        #expect(!ReceiptToken.matches(token, messageID: "kannel-42", secret: "t"))
        #expect(!ReceiptToken.matches(String(token.dropLast()), messageID: "kannel-42", secret: "s"))
        #expect(!ReceiptToken.matches("not base64!", messageID: "kannel-42", secret: "s"))
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, "safe in a URL")
    }
}
