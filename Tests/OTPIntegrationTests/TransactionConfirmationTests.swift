import Foundation
import HummingbirdTesting
import OTPCore
import OTPPostgres
import OTPTesting
import Testing

/// PSD2 dynamic linking end to end on PostgreSQL: a code confirms one amount and payee, and only
/// with them; the message states them; a changed row stops the code; a resend keeps them.
@Suite struct TransactionConfirmationTests {
    static let payment: [String: String] = ["amount": "149.90", "currency": "EUR", "payee": "ACME Travel"]

    func verify(_ world: TestApp, _ client: some TestClientProtocol, _ id: String, code: String, transaction: Any?)
        async throws -> TestResponse
    {
        var body: [String: Any] = ["appid": world.app.id, "verification_id": id, "otp_code": code]
        if let transaction { body["transaction"] = transaction }
        return try await client.post("/otp/verify", jsonBody(body), headers: world.basicAuth)
    }

    static func errorCode(_ response: TestResponse) -> String? {
        (response.json["error"] as? [String: Any])?["code"] as? String
    }

    @Test func onlyTheSameTransactionVerifiesAndEveryOtherIsAWrongTry() async throws {
        try await TestApp.with(configure: { $0.maxAttempts = 6 }) { world in
            try await world.test { client in
                let id = try await world.send(
                    client, code: "482913", recipient: "+351912345670", extra: ["transaction": Self.payment])
                // The message states amount and payee, in the recipient's locale (Portugal: pt).
                let message: String = try await world.scalar(
                    "SELECT message_template FROM otp.deliveries WHERE verification_id = \(id)")
                #expect(message.contains("149,90 €") && message.contains("ACME Travel"), "\(message)")
                // The audit trail says what the code confirms (not secret; the code is).
                let logged: String = try await world.scalar(
                    "SELECT details::text FROM otp.events WHERE verification_id = \(id) AND event = 'send_requested'")
                #expect(logged.contains(#""payees": ["ACME Travel"]"#) && logged.contains(#""amount": "149.90""#))
                let status = try await world.status(client, id)
                #expect(status.json["transaction"] as? [String: String] == Self.payment)

                var wrong = Self.payment
                for (key, value) in [("amount", "149.89"), ("currency", "USD"), ("payee", "ACME Travels")] {
                    wrong = Self.payment
                    wrong[key] = value
                    let refused = try await verify(world, client, id, code: "482913", transaction: wrong)
                    #expect(
                        refused.status == .unprocessableContent && Self.errorCode(refused) == "TRANSACTION_MISMATCH")
                }
                let without = try await verify(world, client, id, code: "482913", transaction: nil)
                #expect(Self.errorCode(without) == "TRANSACTION_MISMATCH")
                #expect(without.json["attempts_remaining"] as? Int == 2, "four wrong tries of six")
                // The amount as given with fewer digits is the same amount.
                var same = Self.payment
                same["amount"] = "149.9"
                let verified = try await verify(world, client, id, code: "482913", transaction: same)
                #expect(verified.status == .ok, "\(String(buffer: verified.body))")
                let tries: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verify_attempts WHERE verification_id = \(id)")
                #expect(tries == 5, "every mismatch was recorded as a try")
            }
        }
    }

    @Test func aTransactionChangedInTheDatabaseStopsTheRightCode() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                let id = try await world.send(client, code: "482913", extra: ["transaction": Self.payment])
                try await world.client.query(
                    """
                    UPDATE otp.verifications SET transaction = jsonb_set(transaction, '{amount}', '"1.00"')
                    WHERE id = \(id)
                    """, logger: quietLogger)
                var changed = Self.payment
                changed["amount"] = "1.00"
                let refused = try await verify(world, client, id, code: "482913", transaction: changed)
                #expect(Self.errorCode(refused) == "INVALID_CODE", "\(String(buffer: refused.body))")
            }
        }
    }

    @Test func aResendKeepsTheTransactionAndABatchCoversEveryPayee() async throws {
        try await TestApp.with(configure: { $0.resendCooldownSeconds = 0 }) { world in
            try await world.test { client in
                let batch: [String: Any] = ["amount": "300", "currency": "EUR", "payees": ["Shop A", "Shop B"]]
                let id = try await world.send(client, code: "111111", extra: ["transaction": batch])
                world.codes.push("222222")
                let resent = try await world.resend(client, id)
                #expect(resent.status == .accepted)
                let messages: [String] = try await {
                    var found: [String] = []
                    for try await text in try await world.client.query(
                        "SELECT message_template FROM otp.deliveries WHERE verification_id = \(id) ORDER BY id",
                        logger: quietLogger
                    ).decode(String.self) { found.append(text) }
                    return found
                }()
                #expect(messages.count == 2 && messages.allSatisfy { $0.contains("Shop A, Shop B") }, "\(messages)")
                let stated: [String: Any] = ["amount": "300.00", "currency": "EUR", "payees": ["Shop A", "Shop B"]]
                let old = try await verify(world, client, id, code: "111111", transaction: stated)
                #expect(Self.errorCode(old) == "INVALID_CODE", "the resend's new code replaced the old one")
                let verified = try await verify(world, client, id, code: "222222", transaction: stated)
                #expect(verified.status == .ok, "\(String(buffer: verified.body))")
            }
        }
    }

    @Test func aBadTransactionIsAClearErrorAndNothingIsWritten() async throws {
        try await TestApp.with { world in
            try await world.test { client in
                for (transaction, field) in [
                    (["amount": "149.901", "currency": "EUR", "payee": "ACME"], "transaction.amount"),
                    (["amount": "149.90", "currency": "XYZ", "payee": "ACME"], "transaction.currency"),
                    (["amount": "149.90", "currency": "EUR", "payee": "Call 0800 123 4567"], "transaction.payee"),
                    (["amount": "149.90", "currency": "EUR"], "transaction.payee"),
                ] {
                    let response = try await client.post(
                        "/otp/send",
                        jsonBody(["appid": world.app.id, "recipient": "+5511999887766", "transaction": transaction]),
                        headers: world.basicAuth)
                    #expect(response.status == .badRequest)
                    #expect((response.json["error"] as? [String: Any])?["field"] as? String == field)
                }
                let login = try await client.post(
                    "/otp/send",
                    jsonBody([
                        "appid": world.app.id, "recipient": "+5511999887766", "template": "login",
                        "transaction": Self.payment,
                    ]), headers: world.basicAuth)
                #expect((login.json["error"] as? [String: Any])?["field"] as? String == "template")
                let written: Int = try await world.scalar(
                    "SELECT count(*)::int FROM otp.verifications WHERE app_id = \(world.app.id)")
                #expect(written == 0)
            }
        }
    }
}
