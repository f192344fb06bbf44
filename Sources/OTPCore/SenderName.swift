/// The `from` of a message: an alphanumeric sender id (1 to 11 letters, digits or spaces, at least one
/// letter, as carriers require) or a phone number.
package enum SenderName {
    package static func normalise(_ text: String) -> String? {
        if text.hasPrefix("+") { return PhoneNumber(text)?.e164 }
        guard (1...11).contains(text.count) else { return nil }
        var hasLetter = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "A"..."Z", "a"..."z": hasLetter = true
            case "0"..."9", " ": continue
            default: return nil
            }
        }
        return hasLetter ? text : nil
    }
}
