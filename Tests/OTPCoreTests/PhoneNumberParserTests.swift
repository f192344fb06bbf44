import OTPCore
import OTPPhoneNumbers
import Testing

/// libphonenumber behind the parser: numbers from many countries, in their usual spellings.
@Suite struct PhoneNumberParserTests {
    let parser = LibPhoneNumberParser()

    @Test(arguments: [
        ("+55 11 99988-8777", "+5511999888777", "BR", LineType.mobile),
        ("+55 (11) 3456-7890", "+551134567890", "BR", .fixedLine),
        ("+1 (415) 555-2671", "+14155552671", "US", .fixedLineOrMobile),
        ("+1.416.555.0123", "+14165550123", "CA", .fixedLineOrMobile),
        ("+44 20 7946 0958", "+442079460958", "GB", .fixedLine),
        ("+44 (0) 20 7946 0958", "+442079460958", "GB", .fixedLine),
        ("+49 30 901820", "+4930901820", "DE", .fixedLine),
        ("+33 6 12 34 56 78", "+33612345678", "FR", .mobile),
        ("+33 (0)6 12 34 56 78", "+33612345678", "FR", .mobile),
        ("+91 98765 43210", "+919876543210", "IN", .mobile),
        ("+81 90-1234-5678", "+819012345678", "JP", .mobile),
        ("+86 138 0013 8000", "+8613800138000", "CN", .mobile),
        ("+61 412 345 678", "+61412345678", "AU", .mobile),
        ("+34 612 34 56 78", "+34612345678", "ES", .mobile),
        ("+39 312 345 6789", "+393123456789", "IT", .mobile),
        ("+39 06 1234 5678", "+390612345678", "IT", .fixedLine),
        ("+62 812-3456-7890", "+6281234567890", "ID", .mobile),
        ("+52 1 55 1234 5678", "+525512345678", "MX", .fixedLineOrMobile),
        ("+27 82 123 4567", "+27821234567", "ZA", .mobile),
        ("+234 803 123 4567", "+2348031234567", "NG", .mobile),
        ("+7 912 345-67-89", "+79123456789", "RU", .mobile),
        ("+82 10-1234-5678", "+821012345678", "KR", .mobile),
        ("+90 532 123 45 67", "+905321234567", "TR", .mobile),
        ("+351 912 345 678", "+351912345678", "PT", .mobile),
        ("+31 6 12345678", "+31612345678", "NL", .mobile),
        ("+46 70 123 45 67", "+46701234567", "SE", .mobile),
        ("+48 512 345 678", "+48512345678", "PL", .mobile),
        ("+54 9 11 1234-5678", "+5491112345678", "AR", .mobile),
        ("+57 321 1234567", "+573211234567", "CO", .mobile),
        ("+353 85 123 4567", "+353851234567", "IE", .mobile),
        ("+971 50 123 4567", "+971501234567", "AE", .mobile),
        ("+1 900 555 0199", "+19005550199", "US", .premiumRate),
        ("+44 800 123 4567", "+448001234567", "GB", .tollFree),
    ])
    func numbersNormaliseToE164(text: String, e164: String, region: String, lineType: LineType) throws {
        let parsed = try #require(parser.parse(text))
        #expect(parsed.e164 == e164)
        #expect(parsed.region == region)
        #expect(parsed.lineType == lineType)
    }

    @Test(arguments: [
        "+1 555 555 0100", "+999 123", "+44 1234", "hello", "", "5511999888777", "(415) 555-2671", "+1 415 555",
        "+49 123", "+44 20 7946 09581234", "+0 123 456", "+86 138 0013 800",
    ])
    func invalidNumbersAreRefused(text: String) {
        #expect(parser.parse(text) == nil)
    }

    @Test func prefixIsAllButTheLastFourDigits() throws {
        #expect(try #require(parser.parse("+55 11 99988-8777")).prefix == "+551199988")
    }
}
