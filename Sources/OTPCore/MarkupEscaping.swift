/// Text made safe to put in HTML or XML, in element content and in quoted attributes alike.
/// Escaped per Unicode scalar, not per `Character`: a quote, `&` or `<` followed by a combining
/// mark is one Character (`&\u{301}`) that a per-Character match misses, yet a browser or an XML
/// parser still reads its first scalar as markup. App names may carry combining marks.
package enum MarkupEscaping {
    package static func escaped(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
