import CPhoneNumber
import OTPCore

/// Phone numbers by Google's libphonenumber, the reference implementation of the numbering plans.
package struct LibPhoneNumberParser: PhoneNumberParser {
    package init() {}

    package func parse(_ text: String) -> ParsedPhoneNumber? {
        // International form only: a national number would need a guessed country.
        guard text.utf8.count <= 64, text.trimmingPrefixWhitespace.hasPrefix("+") else { return nil }
        var e164 = [CChar](repeating: 0, count: Int(OTP_PHONE_E164_CAPACITY))
        var region = [CChar](repeating: 0, count: Int(OTP_PHONE_REGION_CAPACITY))
        var lineType = OTP_LINE_UNKNOWN
        let valid = otp_phone_parse(text, nil, &e164, e164.count, &region, region.count, &lineType)
        guard valid == 1 else { return nil }
        return ParsedPhoneNumber(
            e164: String(decoding: e164.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
            region: String(decoding: region.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self),
            lineType: Self.lineType(lineType))
    }

    static func lineType(_ type: otp_line_type) -> LineType {
        switch type {
        case OTP_LINE_MOBILE: .mobile
        case OTP_LINE_FIXED_LINE: .fixedLine
        case OTP_LINE_FIXED_LINE_OR_MOBILE: .fixedLineOrMobile
        case OTP_LINE_TOLL_FREE: .tollFree
        case OTP_LINE_PREMIUM_RATE: .premiumRate
        case OTP_LINE_SHARED_COST: .sharedCost
        case OTP_LINE_VOIP: .voip
        case OTP_LINE_PERSONAL_NUMBER: .personalNumber
        case OTP_LINE_PAGER: .pager
        case OTP_LINE_UAN: .uan
        case OTP_LINE_VOICEMAIL: .voicemail
        default: .unknown
        }
    }
}

extension String {
    fileprivate var trimmingPrefixWhitespace: Substring { drop { $0 == " " || $0 == "\t" } }
}
