import OTPCore

/// A phone-number parser for tests without libphonenumber: `+` and 8 to 15 digits, the region from a
/// few calling codes, and line types a test chooses per number (mobile otherwise).
package struct FixtureNumbers: PhoneNumberParser {
    package var lineTypes: [String: LineType]

    package init(lineTypes: [String: LineType] = [:]) { self.lineTypes = lineTypes }

    private static let regions: [(prefix: String, region: String)] = [
        ("+1", "US"), ("+44", "GB"), ("+49", "DE"), ("+55", "BR"), ("+33", "FR"), ("+91", "IN"),
    ]

    package func parse(_ text: String) -> ParsedPhoneNumber? {
        let kept = text.filter { !" -.()".contains($0) }
        guard kept.first == "+", (9...16).contains(kept.count), kept.dropFirst().allSatisfy(\.isASCII),
            kept.dropFirst().allSatisfy(\.isNumber), kept.dropFirst().first != "0"
        else { return nil }
        guard let region = Self.regions.first(where: { kept.hasPrefix($0.prefix) })?.region else { return nil }
        return ParsedPhoneNumber(e164: kept, region: region, lineType: lineTypes[kept] ?? .mobile)
    }
}
