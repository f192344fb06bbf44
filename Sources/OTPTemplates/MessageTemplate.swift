import Foundation
import Mustache
import OTPCore

/// A message text in Mustache, checked and rendered as plain text (no HTML escaping).
package struct MessageTemplate: Sendable {
    package enum Problem: Error, Equatable, CustomStringConvertible {
        case syntax(String)
        case codeCount(Int)
        case unknownVariable(String)
        case unsupportedTag(String)
        case tooLong(segments: Int)
        case tooManyCharacters
        case empty

        package var description: String {
            switch self {
            case .syntax(let reason): "the template does not parse: \(reason)"
            case .codeCount(let count): "the template must contain {{code}} exactly once, not \(count) times"
            case .unknownVariable(let name):
                "unknown variable {{\(name)}}; use \(TemplateCatalog.variables.map { "{{\($0)}}" }.joined(separator: ", "))"
            case .unsupportedTag(let tag): "only plain variables are allowed, not {{\(tag)}}"
            case .tooLong(let segments):
                "the message can take \(segments) SMS segments; at most \(MessageTemplate.maximumSegments) are allowed"
            case .tooManyCharacters: "the template is longer than \(MessageTemplate.maximumLength) characters"
            case .empty: "the template is empty"
            }
        }
    }

    /// A long message costs one segment each 153 (GSM-7) or 67 (UCS-2) characters: three is plenty
    /// for a code and a sentence or two.
    package static let maximumSegments = 3
    package static let maximumLength = 1000

    package let text: String
    private let template: MustacheTemplate

    /// Checks the text: it parses; it uses only `{{code}}`, `{{app_name}}`, `{{expires_in_minutes}}`
    /// and a payment's `{{amount}}` and `{{payee}}` (put in when a send with a transaction is queued),
    /// with `{{code}}` exactly once; rendered with a 10-digit code and a 30-character app name it fits
    /// `maximumSegments` SMS segments.
    package init(validating text: String) throws(Problem) {
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .empty }
        guard text.count <= Self.maximumLength else { throw .tooManyCharacters }
        var codes = 0
        guard let tags = Self.tags(in: text) else { throw .syntax("a {{ is never closed") }
        for tag in tags {
            guard let first = tag.first, first.isLetter || first == "_" else { throw .unsupportedTag(tag) }
            guard TemplateCatalog.variables.contains(tag) else { throw .unknownVariable(tag) }
            if tag == "code" { codes += 1 }
        }
        guard codes == 1 else { throw .codeCount(codes) }
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch {
            throw .syntax("\(error)")
        }
        self.text = text
        // A payment's amount and a 30-character payee measured too, where the text states them.
        let longest = template.render([
            "code": "0123456789", "app_name": String(repeating: "W", count: 30), "expires_in_minutes": "10",
            "amount": "€123,456.78", "payee": String(repeating: "W", count: 30),
        ])
        let segments = SMSCounter.measure(longest).segments
        guard segments <= Self.maximumSegments else { throw .tooLong(segments: segments) }
    }

    /// A text queued earlier (checked when its template was saved, or predefined): only parsed here,
    /// so a message is never dropped for a limit that came later.
    package init(queued text: String) throws(Problem) {
        do {
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch {
            throw .syntax("\(error)")
        }
        self.text = text
    }

    package func render(code: String, appName: String, expiresInMinutes: Int) -> String {
        template.render(["code": code, "app_name": appName, "expires_in_minutes": String(expiresInMinutes)])
    }

    /// The app name and lifetime that answers and previews measure with, unless told otherwise.
    package static let sampleAppName = "Acme"
    package static let sampleMinutes = 5

    /// What the message costs with a 6-digit code.
    package func measure(appName: String = sampleAppName) -> SMSSegments {
        SMSCounter.measure(render(code: "123456", appName: appName, expiresInMinutes: Self.sampleMinutes))
    }

    /// The names inside `{{...}}`, `{{{...}}}` and `{{& ...}}` tags, trimmed; sigils kept. nil when a
    /// tag is never closed.
    static func tags(in text: String) -> [String]? {
        var tags: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            guard let close = rest.range(of: "}}") else { return nil }
            var inner = rest[..<close.lowerBound]
            if inner.hasPrefix("{") { inner = inner.dropFirst() }
            tags.append(inner.trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
            if rest.hasPrefix("}") { rest = rest.dropFirst() }
        }
        return tags
    }
}
