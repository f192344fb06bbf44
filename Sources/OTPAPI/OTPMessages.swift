import Foundation
import OTPCore

// The bodies of the /otp routes, field names as in the contract. Every request field is optional
// here so that a missing one is reported by name by the validation that follows decoding.

struct SendRequest: Decodable {
    var appid: String?
    var recipient: String?
    var channel: String?
    var from: String?
    var template: String?
    var locale: String?
    var codeLength: JSONInteger?
    var expiresIn: JSONInteger?
    var metadata: [String: String]?
    var transaction: TransactionBody?

    enum CodingKeys: String, CodingKey {
        case appid, recipient, channel, from, template, locale, metadata, transaction
        case codeLength = "code_length"
        case expiresIn = "expires_in"
    }
}

/// `transaction` on send and verify: `{"amount": "149.90", "currency": "EUR", "payee": "..."}`, or
/// `payees` for a batch of payments (the amount is then their total).
struct TransactionBody: Decodable {
    var amount: String?
    var currency: String?
    var payee: String?
    var payees: [String]?

    var input: TransactionInput { TransactionInput(amount: amount, currency: currency, payee: payee, payees: payees) }
}

/// A transaction as the answers show it (it is not secret; the code is).
struct TransactionView: Encodable {
    var transaction: Transaction

    enum CodingKeys: String, CodingKey { case amount, currency, payee, payees }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(transaction.amount, forKey: .amount)
        try container.encode(transaction.currency, forKey: .currency)
        if transaction.payees.count == 1 {
            try container.encode(transaction.payees[0], forKey: .payee)
        } else {
            try container.encode(transaction.payees, forKey: .payees)
        }
    }
}

struct VerifyRequest: Decodable {
    var appid: String?
    var verificationID: String?
    var otpCode: String?
    var recipient: String?
    var transaction: TransactionBody?

    enum CodingKeys: String, CodingKey {
        case appid, recipient, transaction
        case verificationID = "verification_id"
        case otpCode = "otp_code"
    }
}

struct ResendRequest: Decodable {
    var appid: String?
    var verificationID: String?
    var channel: String?

    enum CodingKeys: String, CodingKey {
        case appid, channel
        case verificationID = "verification_id"
    }
}

struct SendResponse: Encodable {
    var result: SendResult

    enum CodingKeys: String, CodingKey {
        case verificationID = "verification_id"
        case status, channel, recipient
        case expiresAt = "expires_at"
        case resendAvailableAt = "resend_available_at"
        case deliveryStatus = "delivery_status"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(result.verificationID, forKey: .verificationID)
        try container.encode(result.status, forKey: .status)
        try container.encode(result.channel, forKey: .channel)
        try container.encode(result.recipient, forKey: .recipient)
        try container.encode(result.expiresAt, forKey: .expiresAt)
        try container.encode(result.resendAvailableAt, forKey: .resendAvailableAt)
        try container.encode(result.deliveryStatus, forKey: .deliveryStatus)
    }
}

struct StatusResponse: Encodable {
    var report: VerificationReport

    enum CodingKeys: String, CodingKey {
        case verificationID = "verification_id"
        case appid, status, channel, recipient, attempts, sends, test, transaction
        case attemptsRemaining = "attempts_remaining"
        case deliveryStatus = "delivery_status"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case verifiedAt = "verified_at"
        case resendAvailableAt = "resend_available_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(report.id, forKey: .verificationID)
        try container.encode(report.appID, forKey: .appid)
        try container.encode(report.status, forKey: .status)
        try container.encode(report.channel, forKey: .channel)
        try container.encode(PhoneNumber.mask(report.recipient), forKey: .recipient)
        try container.encode(report.attempts, forKey: .attempts)
        try container.encode(report.attemptsRemaining, forKey: .attemptsRemaining)
        try container.encode(report.sends, forKey: .sends)
        // A delivery superseded by a resend is never the latest; "canceled" shows only when a
        // verification ended before its message went out, which to a client is a failed delivery.
        try container.encode(
            report.deliveryStatus == .canceled ? DeliveryStatus.failed : report.deliveryStatus, forKey: .deliveryStatus)
        try container.encode(report.createdAt, forKey: .createdAt)
        try container.encode(report.expiresAt, forKey: .expiresAt)
        try container.encode(report.verifiedAt, forKey: .verifiedAt)
        try container.encode(report.resendAvailableAt, forKey: .resendAvailableAt)
        try container.encode(report.test, forKey: .test)
        if let transaction = report.transaction {
            try container.encode(TransactionView(transaction: transaction), forKey: .transaction)
        }
    }
}

/// An integer field that reports every bad number (fractions, exponents, values beyond 64 bits) as
/// a wrong value of that field. Foundation's decoder reports some of these without the field's
/// path, which would make them look like malformed JSON.
struct JSONInteger: Decodable, Equatable {
    var value: Int

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        guard let value = try? container.decode(Int.self) else {
            throw DecodingError.typeMismatch(
                Int.self, .init(codingPath: container.codingPath, debugDescription: "expected an integer"))
        }
        self.value = value
    }
}
