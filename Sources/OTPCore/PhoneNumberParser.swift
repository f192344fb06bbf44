/// What kind of line a number is, as the numbering plans say.
package enum LineType: String, Sendable, Codable, CaseIterable {
    case mobile
    case fixedLine = "fixed_line"
    /// Plans that cannot tell (the +1 countries among them).
    case fixedLineOrMobile = "fixed_line_or_mobile"
    case tollFree = "toll_free"
    case premiumRate = "premium_rate"
    case sharedCost = "shared_cost"
    case voip
    case personalNumber = "personal_number"
    case pager
    case uan
    case voicemail
    case unknown
}

/// A recipient number checked against the numbering plans: its E.164 form, country and line type.
package struct ParsedPhoneNumber: Sendable, Equatable {
    package var e164: String
    /// ISO 3166 region code (`BR`, `US`), or `001` for non-geographic numbers.
    package var region: String
    package var lineType: LineType

    package init(e164: String, region: String, lineType: LineType) {
        self.e164 = e164
        self.region = region
        self.lineType = lineType
    }

    /// All but the last four digits: the block a number belongs to, for the prefix budget.
    package var prefix: String { String(e164.dropLast(4)) }
}

/// Parses and validates phone numbers written in international form (`+` and the country code;
/// spaces, dashes, dots and parentheses allowed). nil for anything that is not a valid number.
package protocol PhoneNumberParser: Sendable {
    func parse(_ text: String) -> ParsedPhoneNumber?
}
