import Mustache
import OTPCore

/// Text made safe to put in HTML (`MarkupEscaping`: per Unicode scalar).
package enum HTML {
    package static func escape(_ text: String) -> String { MarkupEscaping.escaped(text) }
}

/// Mustache's HTML content type with the escaping above: swift-mustache's own `htmlEscape` matches
/// per `Character` too. Every dashboard template starts with the pragma that selects it.
struct ScalarHTMLContentType: MustacheContentType {
    static let name = "OTP_HTML"
    static let pragma = "{{% CONTENT_TYPE: OTP_HTML}}"

    func escapeText(_ text: String) -> String { HTML.escape(text) }
}
