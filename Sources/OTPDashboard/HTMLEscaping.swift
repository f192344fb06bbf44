import Mustache

/// Text made safe to put in HTML, in element content and in quoted attributes alike. Escaped per
/// Unicode scalar, not per `Character`: a quote followed by a combining mark is one Character
/// (`"\u{301}`) that a per-Character match misses, yet the browser still reads its quote.
package enum HTML {
    package static func escape(_ text: String) -> String {
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

/// Mustache's HTML content type with the escaping above: swift-mustache's own `htmlEscape` matches
/// per `Character` too. Every dashboard template starts with the pragma that selects it.
struct ScalarHTMLContentType: MustacheContentType {
    static let name = "OTP_HTML"
    static let pragma = "{{% CONTENT_TYPE: OTP_HTML}}"

    func escapeText(_ text: String) -> String { HTML.escape(text) }
}
