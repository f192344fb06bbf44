import PostgresNIO

/// A column holding something this binary does not know: the schema and the code disagree (a
/// newer version wrote it, or a hand edit). Said loudly, never read as a default.
struct UnknownStoredValue: Error, CustomStringConvertible {
    var type: String
    var value: String

    var description: String { "the database holds \(type) \"\(value)\", which this version does not know" }
}

extension RawRepresentable where RawValue == String {
    /// The case a text column names; throws `UnknownStoredValue` for any other text.
    static func stored(_ text: String) throws -> Self {
        guard let value = Self(rawValue: text) else { throw UnknownStoredValue(type: "\(Self.self)", value: text) }
        return value
    }
}

extension PostgresRandomAccessRow {
    /// The column called `name`, decoded: rows are read by name, never by position.
    func value<Value: PostgresDecodable>(_ name: String, _: Value.Type = Value.self) throws -> Value {
        try self[name].decode(Value.self)
    }
}
