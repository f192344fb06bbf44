/// A credential the process holds (a vendor token, a signing secret). It describes, reflects and
/// encodes itself as `[redacted]`, so no log line, `dump` or service description can show it, at
/// any level; the value is read only where it is used, by name: `secret.exposed`.
public struct Secret: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible,
    CustomDebugStringConvertible, CustomReflectable, Encodable
{
    public let exposed: String

    public init(_ value: String) { exposed = value }
    public init(stringLiteral value: String) { exposed = value }

    public static let redacted = "[redacted]"

    public var isEmpty: Bool { exposed.isEmpty }
    public var description: String { Self.redacted }
    public var debugDescription: String { Self.redacted }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Self.redacted)
    }
}
