/// How an SMS body travels. Carriers bill per segment, and one character outside the GSM 7-bit default
/// alphabet switches the whole message to UCS-2, which cuts a segment from 160 characters to 70.
package enum SMSEncoding: String, Sendable {
    case gsm7 = "GSM-7"
    case ucs2 = "UCS-2"
}

/// The size of an SMS body once encoded, and how many segments (billed messages) it takes.
package struct SMSSegments: Sendable, Equatable {
    package var encoding: SMSEncoding
    /// The length in the encoding's units: GSM-7 septets, where an extension-table character takes two (the
    /// escape and its code); or UTF-16 code units for UCS-2, where a character outside the Basic Multilingual
    /// Plane (most emoji) takes two, as gateways send it as a surrogate pair.
    package var characters: Int
    /// Zero for an empty body.
    package var segments: Int

    package init(encoding: SMSEncoding, characters: Int, segments: Int) {
        self.encoding = encoding
        self.characters = characters
        self.segments = segments
    }
}

/// Counts what an SMS costs before it is sent, so templates can be checked against one segment and the
/// API can warn about long messages.
///
/// The alphabet is the GSM 7-bit default alphabet and its extension table of 3GPP TS 23.038 (ETSI TS 123 038,
/// §6.2.1 and §6.2.1.1). National language shift tables (Portuguese, Spanish, Indian scripts) are left out on
/// purpose: a sender cannot count on every carrier and handset honouring them, so text that needs them is
/// counted as UCS-2, which is what gateways send it as.
///
/// The text is counted scalar by scalar as given, without Unicode normalisation: a decomposed `é` (`e` and
/// U+0301) counts as UCS-2. That can only overstate the cost; normalise to NFC first for an exact count.
package enum SMSCounter {
    /// Septets in a message that fits one segment: 140 octets of user data.
    package static let gsm7SingleSegment = 160
    /// Septets per segment once a message is split: the concatenation header takes 6 of the 140 octets.
    package static let gsm7ConcatenatedSegment = 153
    /// UTF-16 code units in a message that fits one segment.
    package static let ucs2SingleSegment = 70
    /// UTF-16 code units per segment once a message is split.
    package static let ucs2ConcatenatedSegment = 67

    package static func measure(_ text: String) -> SMSSegments {
        var septets: [Int] = []
        var isGSM7 = true
        for scalar in text.unicodeScalars {
            guard let cost = gsm7Septets(scalar) else {
                isGSM7 = false
                break
            }
            septets.append(cost)
        }
        if isGSM7 {
            return SMSSegments(
                encoding: .gsm7, characters: septets.reduce(0, +),
                segments: segmentCount(septets, single: gsm7SingleSegment, concatenated: gsm7ConcatenatedSegment))
        }
        let units = text.unicodeScalars.map { $0.value > 0xFFFF ? 2 : 1 }
        return SMSSegments(
            encoding: .ucs2, characters: units.reduce(0, +),
            segments: segmentCount(units, single: ucs2SingleSegment, concatenated: ucs2ConcatenatedSegment))
    }

    /// The septets a scalar takes in GSM-7: 1 in the default alphabet, 2 in the extension table (escape and
    /// code), nil when GSM-7 cannot carry it.
    package static func gsm7Septets(_ scalar: Unicode.Scalar) -> Int? {
        if defaultAlphabet.contains(scalar) { return 1 }
        if extensionTable.contains(scalar) { return 2 }
        return nil
    }

    /// Packs characters into segments the way a sender splits a long message: an escape sequence or a
    /// surrogate pair is never cut in two, so it moves whole to the next segment. That is why a message of
    /// exactly 2 × 153 septets can still take three segments.
    private static func segmentCount(_ units: [Int], single: Int, concatenated: Int) -> Int {
        let total = units.reduce(0, +)
        if total == 0 { return 0 }
        if total <= single { return 1 }
        var segments = 1
        var used = 0
        for unit in units {
            if used + unit > concatenated {
                segments += 1
                used = 0
            }
            used += unit
        }
        return segments
    }

    /// The GSM 7-bit default alphabet, 3GPP TS 23.038 §6.2.1, one string per column of the spec's table:
    /// string n holds septets 0xn0 to 0xnF in order. 0x1B is the escape to the extension table, not a
    /// character, and is dropped below. 0x09 is capital `Ç` as the spec draws it; Unicode's GSM0338.TXT maps it
    /// to small `ç` instead, so `ç` is counted as UCS-2, the side that never undercounts.
    private static let columns: [String] = [
        "@£$¥èéùìòÇ\nØø\rÅå",
        // Δ _ Φ Γ Λ Ω Π Ψ Σ Θ Ξ ESC Æ æ ß É, the Greek capitals spelled out so no Latin look-alike slips in.
        "\u{0394}_\u{03A6}\u{0393}\u{039B}\u{03A9}\u{03A0}\u{03A8}\u{03A3}\u{0398}\u{039E}\u{1B}ÆæßÉ",
        " !\"#¤%&'()*+,-./",
        "0123456789:;<=>?",
        "¡ABCDEFGHIJKLMNO",
        "PQRSTUVWXYZÄÖÑÜ§",
        "¿abcdefghijklmno",
        "pqrstuvwxyzäöñüà",
    ]

    private static let defaultAlphabet: Set<Unicode.Scalar> = Set(
        columns.joined().unicodeScalars.filter { $0 != "\u{1B}" })

    /// The extension table, 3GPP TS 23.038 §6.2.1.1: form feed (0x0A), ^ (0x14), { (0x28), } (0x29), \ (0x2F),
    /// [ (0x3C), ~ (0x3D), ] (0x3E), | (0x40) and € (0x65), each sent as ESC (0x1B) and its code.
    private static let extensionTable: Set<Unicode.Scalar> = Set("\u{0C}^{}\\[~]|\u{20AC}".unicodeScalars)
}
