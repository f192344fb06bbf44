import Mustache
import OTPCore

/// Mustache's HTML content type with `MarkupEscaping`, which escapes per Unicode scalar:
/// swift-mustache's own `htmlEscape` matches per `Character`. Every dashboard template starts with
/// the pragma that selects it.
struct ScalarHTMLContentType: MustacheContentType {
    static let name = "OTP_HTML"
    static let pragma = "{{% CONTENT_TYPE: OTP_HTML}}"

    func escapeText(_ text: String) -> String { MarkupEscaping.escaped(text) }
}
