import Foundation

/// A payment a code confirms (PSD2's dynamic linking, RTS article 5): the amount, its currency and
/// the payee, or for a batch of payments the total and every payee (the EBA's answer on batches:
/// one code covers the total and the payees). The code's keyed hash covers its canonical form, so a
/// code confirms exactly this transaction; a changed amount or payee, here or in the database,
/// does not verify.
package struct Transaction: Sendable, Equatable, Codable {
    /// A decimal with exactly the currency's minor digits (`149.90`, `1500` for JPY).
    package var amount: String
    /// ISO 4217, upper case.
    package var currency: String
    /// One payee, or several for a batch (in the order given).
    package var payees: [String]

    package init(amount: String, currency: String, payees: [String]) {
        self.amount = amount
        self.currency = currency
        self.payees = payees
    }

    /// What the keyed hash covers: a version, the amount, the currency and the payees in order,
    /// separated by a character no part may hold.
    package var canonical: String {
        (["txn1", amount, currency] + payees).joined(separator: "\u{1F}")
    }

    /// The payees as a message names them.
    package var payeeText: String { payees.joined(separator: ", ") }

    /// The amount as the locale writes it, with the currency (`€149.90`, `149,90 €`), in characters
    /// an SMS can carry: the locale's no-break spaces become plain spaces.
    package func formattedAmount(locale: String) -> String {
        let formatter = NumberFormatter()
        // The catalogue's `pt` is European Portuguese; ICU's bare `pt` is Brazil's.
        let identifier = locale == "pt" ? "pt_PT" : locale.replacingOccurrences(of: "-", with: "_")
        formatter.locale = Locale(identifier: identifier)
        formatter.numberStyle = .currency
        formatter.currencyCode = currency
        let digits = Self.minorDigits(currency)
        (formatter.minimumFractionDigits, formatter.maximumFractionDigits) = (digits, digits)
        let text =
            Decimal(string: amount, locale: Locale(identifier: "en_US_POSIX")).flatMap {
                formatter.string(from: $0 as NSDecimalNumber)
            } ?? "\(amount) \(currency)"
        return String(text.map { $0 == "\u{A0}" || $0 == "\u{202F}" ? " " : $0 })
    }

    /// The currency's minor digits (ISO 4217): 2 unless listed.
    static func minorDigits(_ currency: String) -> Int {
        switch currency {
        case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF",
            "XOF", "XPF":
            0
        case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND": 3
        case "CLF", "UYW": 4
        default: 2
        }
    }
}

/// A `transaction` as a send or verify gives it, before it is checked.
package struct TransactionInput: Sendable, Equatable {
    package var amount: String?
    package var currency: String?
    package var payee: String?
    package var payees: [String]?

    package init(amount: String?, currency: String?, payee: String?, payees: [String]? = nil) {
        self.amount = amount
        self.currency = currency
        self.payee = payee
        self.payees = payees
    }

    /// The checked transaction; each refusal names its field (`transaction.amount`...).
    package func validated() throws(OTPFailure) -> Transaction {
        guard let currency, currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }),
            Self.currencies.contains(currency)
        else {
            throw .validation(field: "transaction.currency", message: "currency must be an ISO 4217 code such as EUR")
        }
        let amount = try Self.amount(amount, currency: currency)
        let names: [String]
        switch (payee, payees) {
        case (let one?, nil): names = [one]
        case (nil, let many?) where (2...20).contains(many.count): names = many
        case (nil, .some):
            throw .validation(field: "transaction.payees", message: "payees lists 2 to 20 payees of one batch")
        case (.some, .some):
            throw .validation(field: "transaction.payee", message: "give payee or payees, not both")
        case (nil, nil):
            throw .validation(field: "transaction.payee", message: "payee is required")
        }
        for name in names {
            if let problem = Self.payeeProblem(name) {
                throw .validation(field: payees == nil ? "transaction.payee" : "transaction.payees", message: problem)
            }
        }
        return Transaction(amount: amount, currency: currency, payees: names)
    }

    /// A decimal string above 0 with at most the currency's minor digits, in canonical form.
    static func amount(_ text: String?, currency: String) throws(OTPFailure) -> String {
        let digits = Transaction.minorDigits(currency)
        let field = "transaction.amount"
        guard let text, !text.isEmpty, text.utf8.count <= 20 else {
            throw .validation(field: field, message: "amount is required, as a decimal string such as \"149.90\"")
        }
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }),
            parts.count == 1 || (!parts[1].isEmpty && parts[1].allSatisfy({ $0.isASCII && $0.isNumber }))
        else { throw .validation(field: field, message: "amount must be a decimal string such as \"149.90\"") }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= digits else {
            throw .validation(field: field, message: "\(currency) amounts have at most \(digits) decimal digits")
        }
        let integer = String(whole.drop { $0 == "0" })
        let padded = fraction + String(repeating: "0", count: digits - fraction.count)
        guard integer.contains(where: { $0 != "0" }) || padded.contains(where: { $0 != "0" }) else {
            throw .validation(field: field, message: "amount must be more than 0")
        }
        return (integer.isEmpty ? "0" : integer) + (digits > 0 ? "." + padded : "")
    }

    /// Why a payee cannot stand in a code message: it is printed there for the payer to trust, so
    /// it may not carry what would look like another code, a link or a line of its own.
    static func payeeProblem(_ name: String) -> String? {
        let count = name.unicodeScalars.count
        guard (1...64).contains(count), name.trimmingCharacters(in: .whitespaces) == name else {
            return "a payee is 1 to 64 characters, without leading or trailing spaces"
        }
        if let problem = DisplayName.problem(name, what: "payee") { return problem }
        if name.contains("{") || name.contains("}") { return "a payee may not hold braces" }
        var run = 0
        for character in name {
            run = character.isASCII && character.isNumber ? run + 1 : 0
            if run >= 4 { return "a payee may not hold a run of 4 or more digits (it would read like a code)" }
        }
        let lower = name.lowercased()
        if lower.contains("://") || lower.contains("www.") || lower.contains("@")
            || lower.range(of: #"[a-z0-9-]+\.[a-z]{2,}"#, options: .regularExpression) != nil
        {
            return "a payee may not hold a link, a domain or an address"
        }
        return nil
    }

    /// ISO 4217's active codes, as Foundation knows them.
    static let currencies = Set(Locale.commonISOCurrencyCodes)
}
