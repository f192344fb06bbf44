/// Names people give things (apps, accounts, templates) end up in terminals, pages and message
/// text, so they must be plain printable text: no control characters (C0, C1, DEL), which can
/// forge a line of `otp apps list` or drive a terminal, and no bidirectional overrides or
/// isolates, which make text read differently from how it is stored.
package enum DisplayName {
    /// Why `text` is no name; nil when it is one. `what` names it in the answer ("the app's name").
    package static func problem(_ text: String, what: String, maxLength: Int = 200) -> String? {
        guard (1...maxLength).contains(text.unicodeScalars.count) else {
            return "\(what) must be 1 to \(maxLength) characters"
        }
        guard !text.unicodeScalars.contains(where: isRefused) else {
            return "\(what) may hold no control characters and no bidirectional overrides or isolates"
        }
        guard !text.unicodeScalars.allSatisfy(\.properties.isWhitespace) else { return "\(what) may not be blank" }
        return nil
    }

    static func isRefused(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true  // C0, DEL, C1
        case 0x202A...0x202E, 0x2066...0x2069: true  // embeddings and overrides, isolates
        case 0x2028, 0x2029: true  // line and paragraph separators: a new line all the same
        default: false
        }
    }
}
