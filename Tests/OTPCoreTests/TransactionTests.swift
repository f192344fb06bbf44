import Crypto
import Foundation
import OTPCore
import Testing

/// Transaction confirmation: what a transaction may be, the code bound to it, and the message that
/// states it.
@Suite struct TransactionTests {
    static func transaction(_ amount: String = "149.90", _ currency: String = "EUR", payee: String = "ACME Travel")
        throws -> Transaction
    {
        try TransactionInput(amount: amount, currency: currency, payee: payee).validated()
    }

    @Test(arguments: [
        ("149.90", "EUR", "149.90"), ("149.9", "EUR", "149.90"), ("0149.90", "EUR", "149.90"), ("5", "EUR", "5.00"),
        ("1500", "JPY", "1500"), ("12.345", "BHD", "12.345"), ("0.01", "USD", "0.01"),
    ])
    func amountsTakeTheCurrencysMinorDigits(text: String, currency: String, canonical: String) throws {
        #expect(try Self.transaction(text, currency).amount == canonical)
    }

    @Test(arguments: [
        ("149.901", "EUR", "transaction.amount"), ("1500.5", "JPY", "transaction.amount"),
        ("0", "EUR", "transaction.amount"), ("0.00", "EUR", "transaction.amount"), ("-1", "EUR", "transaction.amount"),
        ("1e3", "EUR", "transaction.amount"), ("1,00", "EUR", "transaction.amount"), ("", "EUR", "transaction.amount"),
        (".5", "EUR", "transaction.amount"), ("5.", "EUR", "transaction.amount"),
        ("149.90", "EUX", "transaction.currency"),
        ("149.90", "eur", "transaction.currency"),
    ])
    func badAmountsAndCurrenciesNameTheirField(text: String, currency: String, field: String) {
        #expect {
            try TransactionInput(amount: text, currency: currency, payee: "ACME").validated()
        } throws: { error in
            guard case .validation(let named, _) = error as? OTPFailure else { return false }
            return named == field
        }
    }

    /// A payee is printed in the code message for the payer to trust: nothing in it may pass for a
    /// code, a link, a line of its own or a Mustache tag.
    @Test(arguments: [
        "Pay 123456 now", "acme.com", "https://acme.example", "www.acme", "pay@acme", "ACME\nTravel",
        "ACME\u{202E}levarT", "{{code}}", " ACME", String(repeating: "A", count: 65), "",
    ])
    func payeesThatCouldMisleadAreRefused(payee: String) {
        #expect(throws: OTPFailure.self) { try Self.transaction(payee: payee) }
    }

    @Test func aBatchNamesEveryPayeeAndOnlyOneFormIsTaken() throws {
        let batch = try TransactionInput(amount: "300", currency: "EUR", payee: nil, payees: ["Shop A", "Shop B"])
            .validated()
        #expect(batch.payees == ["Shop A", "Shop B"] && batch.amount == "300.00")
        #expect(throws: OTPFailure.self) {
            try TransactionInput(amount: "3", currency: "EUR", payee: "A", payees: ["B", "C"]).validated()
        }
        #expect(throws: OTPFailure.self) {
            try TransactionInput(amount: "3", currency: "EUR", payee: nil, payees: ["B"]).validated()
        }
    }

    @Test func theCodesDigestCoversTheTransaction() throws {
        let digester = CodeDigester(keys: ServerKeys(secret: SymmetricKey(size: .bits256)))
        let paid = try Self.transaction()
        let digest = digester.digest(code: "123456", verificationID: "otp_x", transaction: paid)
        #expect(digester.matches(code: "123456", verificationID: "otp_x", transaction: paid, digest: digest))
        for other in [
            try Self.transaction("149.91"), try Self.transaction("149.90", "USD"),
            try Self.transaction(payee: "ACME Trave1"),
        ] {
            #expect(!digester.matches(code: "123456", verificationID: "otp_x", transaction: other, digest: digest))
        }
        #expect(!digester.matches(code: "123456", verificationID: "otp_x", digest: digest))
    }

    @Test func aTransactionThatDiffersIsAWrongTryThatJudgesNoCode() {
        let snapshot = VerificationSnapshot(
            status: .pending, attempts: 0, maxAttempts: 2, sends: 1, maxSends: 5,
            expiresAt: Date().addingTimeInterval(300), resendAvailableAt: Date())
        let mismatch = VerifyRules.decide(
            snapshot, codeMatches: true, recipientMatches: true, transactionMatches: false, now: Date())
        #expect(mismatch.outcome == .transactionMismatch && mismatch.attempts == 1 && mismatch.guesses == .wrong)
        var second = snapshot
        second.attempts = 1
        let locked = VerifyRules.decide(
            second, codeMatches: true, recipientMatches: true, transactionMatches: false, now: Date())
        #expect(locked.outcome == .maxAttemptsExceeded && locked.status == .locked)
    }

    /// Every locale's payment message states the amount as the locale writes it and the payee, in
    /// one GSM-7 segment where the locale's letters allow (UCS-2 ones within three segments).
    @Test(arguments: TemplateCatalog.locales)
    func everyLocalesPaymentMessageStatesAmountAndPayee(locale: String) throws {
        let paid = try Self.transaction()
        let (resolved, text) = TemplateCatalog.message(
            for: .transaction, locale: locale, extras: TemplateExtras(), transaction: paid)
        #expect(resolved == locale)
        let message = text.replacingOccurrences(of: "{{code}}", with: "482913")
            .replacingOccurrences(of: "{{app_name}}", with: "Acme").replacingOccurrences(
                of: "{{expires_in_minutes}}", with: "5")
        #expect(message.contains("ACME Travel"), "\(message)")
        #expect(message.contains("149.90") || message.contains("149,90"), "\(message)")
        #expect(message.contains("€"), "\(message)")
        let measured = SMSCounter.measure(message)
        if ["en", "fr", "de", "it", "id"].contains(locale) {
            #expect(measured.encoding == .gsm7 && measured.segments == 1, "\(locale): \(measured) \(message)")
        } else {
            #expect(measured.segments <= 3, "\(locale): \(measured)")
        }
    }
}
