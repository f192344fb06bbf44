import Foundation
import Hummingbird

/// The fields of a submitted form (`application/x-www-form-urlencoded`) or of a query string; a
/// name may repeat (checkboxes).
package struct FormData: Sendable {
    private(set) var fields: [(name: String, value: String)] = []

    /// Forms of the dashboard are small; a bigger body is refused before it is read.
    static let maximumBytes = 64 * 1024

    package init(encoded text: String) {
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            fields.append((name, value))
        }
    }

    static func read(_ request: Request) async throws -> FormData {
        let buffer = try await request.body.collect(upTo: maximumBytes)
        return FormData(encoded: String(decoding: buffer.readableBytesView, as: UTF8.self))
    }

    static func query(_ request: Request) -> FormData {
        FormData(encoded: request.uri.query ?? "")
    }

    /// The first value of `name`, trimmed; nil when absent or blank.
    package subscript(_ name: String) -> String? {
        guard let value = fields.first(where: { $0.name == name })?.value else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The first value of `name` as sent (a password or a template body keeps its blanks).
    package func raw(_ name: String) -> String? { fields.first(where: { $0.name == name })?.value }

    package func all(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    package func has(_ name: String) -> Bool { fields.contains { $0.name == name } }

    /// A value as a query string carries it (what `init(encoded:)` reads back).
    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    private static func decode(_ part: Substring) -> String {
        let spaced = part.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
