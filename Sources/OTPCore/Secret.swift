/// A credential the process holds (a vendor token, a signing secret). It describes, reflects and
/// encodes itself as `[redacted]`, so no log line, `dump` or service description can show it, at
/// any level; the value is read only where it is used, by name: `secret.exposed`.
package struct Secret: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible,
    CustomDebugStringConvertible, CustomReflectable, Encodable
{
    package let exposed: String

    package init(_ value: String) { exposed = value }
    package init(stringLiteral value: String) { exposed = value }

    package static let redacted = "[redacted]"

    package var isEmpty: Bool { exposed.isEmpty }
    package var description: String { Self.redacted }
    package var debugDescription: String { Self.redacted }
    package var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Self.redacted)
    }
}
