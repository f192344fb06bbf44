/// A phone number in E.164 form (`+` and 8 to 15 digits, no leading zero).
///
/// Common spellings (`+55 11 99988-8777`, `+1 (415) 555.2671`) are normalised by dropping spaces,
/// dots, dashes and parentheses; anything else is refused rather than guessed.
package struct PhoneNumber: Sendable, Hashable, CustomStringConvertible {
    package let e164: String

    package init?(_ text: String) {
        guard text.utf8.count <= 64 else { return nil }
        var digits = ""
        var sawPlus = false
        for (index, character) in text.enumerated() {
            switch character {
            case "+" where index == 0:
                sawPlus = true
            case " ", "-", ".", "(", ")":
                continue
            case "0"..."9":
                digits.append(character)
            default:
                return nil
            }
        }
        guard sawPlus, (8...15).contains(digits.count), digits.first != "0" else { return nil }
        self.e164 = "+" + digits
    }

    package var description: String { e164 }

    /// Every digit but the last four replaced by `*`, the leading `+` kept.
    package static func mask(_ e164: String) -> String {
        let digits = e164.dropFirst()
        let hidden = max(0, digits.count - 4)
        return "+" + String(repeating: "*", count: hidden) + digits.suffix(4)
    }
}
