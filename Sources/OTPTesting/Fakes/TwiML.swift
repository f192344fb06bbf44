import Foundation

/// Reads the TwiML of a call, strictly: a `<Response>` holding `<Say>` and `<Pause>` verbs, as
/// Twilio's voice TwiML defines them, with the XML escapes XML allows. Anything else (another verb,
/// an unknown attribute, a stray `&` or `<`, text outside a verb) is a parse failure, as a
/// document Twilio could not run would be.
package enum TwiML {
    /// The `<Say>` verbs of `document`, in order; nil when it does not parse.
    package static func says(in document: String) -> [FakeTwilio.Say]? {
        var scanner = Substring(document)
        skipWhitespace(&scanner)
        if scanner.hasPrefix("<?xml") {
            guard let end = scanner.range(of: "?>") else { return nil }
            scanner = scanner[end.upperBound...]
            skipWhitespace(&scanner)
        }
        guard take("<Response>", from: &scanner) else { return nil }
        var says: [FakeTwilio.Say] = []
        while true {
            skipWhitespace(&scanner)
            if take("</Response>", from: &scanner) {
                skipWhitespace(&scanner)
                return scanner.isEmpty ? says : nil
            }
            guard let tag = openingTag(&scanner) else { return nil }
            switch (tag.name, tag.selfClosing) {
            case ("Pause", true):
                guard tag.attributes.keys.allSatisfy({ $0 == "length" }),
                    tag.attributes["length"].map({ Int($0) != nil }) ?? true
                else { return nil }
            case ("Say", false):
                guard tag.attributes.keys.allSatisfy({ ["language", "voice", "loop"].contains($0) }),
                    let close = scanner.range(of: "</Say>"),
                    let text = unescaped(scanner[..<close.lowerBound]), !text.isEmpty
                else { return nil }
                says.append(FakeTwilio.Say(language: tag.attributes["language"], text: text))
                scanner = scanner[close.upperBound...]
            default:
                return nil
            }
        }
    }

    private struct Tag {
        var name: String
        var attributes: [String: String]
        var selfClosing: Bool
    }

    /// `<Name a="v" ...>` or `<Name .../>`, with double-quoted attribute values.
    private static func openingTag(_ scanner: inout Substring) -> Tag? {
        guard scanner.first == "<", let end = scanner.firstIndex(of: ">") else { return nil }
        var inside = scanner[scanner.index(after: scanner.startIndex)..<end]
        scanner = scanner[scanner.index(after: end)...]
        let selfClosing = inside.hasSuffix("/")
        if selfClosing { inside = inside.dropLast() }
        let name = inside.prefix { $0.isLetter }
        guard !name.isEmpty else { return nil }
        inside = inside.dropFirst(name.count)
        var attributes: [String: String] = [:]
        while true {
            skipWhitespace(&inside)
            if inside.isEmpty { break }
            let key = inside.prefix { $0.isLetter }
            guard !key.isEmpty else { return nil }
            inside = inside.dropFirst(key.count)
            guard take("=\"", from: &inside), let quote = inside.firstIndex(of: "\""),
                let value = unescaped(inside[..<quote]), attributes[String(key)] == nil
            else { return nil }
            attributes[String(key)] = value
            inside = inside[inside.index(after: quote)...]
        }
        return Tag(name: String(name), attributes: attributes, selfClosing: selfClosing)
    }

    /// Character data with its five named escapes and numeric ones; nil for a raw `<` or a bare `&`.
    /// Read per Unicode scalar, as an XML parser reads it: `&` followed by a combining mark is one
    /// `Character`, and still a bare `&`.
    private static func unescaped(_ text: Substring) -> String? {
        guard !text.unicodeScalars.contains("<") else { return nil }
        var result = String.UnicodeScalarView()
        var rest = text.unicodeScalars[...]
        while let ampersand = rest.firstIndex(of: "&") {
            result.append(contentsOf: rest[..<ampersand])
            guard let semicolon = rest[ampersand...].firstIndex(of: ";") else { return nil }
            let entity = String(Substring(rest[rest.index(after: ampersand)..<semicolon]))
            switch entity {
            case "amp": result.append("&")
            case "lt": result.append("<")
            case "gt": result.append(">")
            case "quot": result.append("\"")
            case "apos": result.append("'")
            default:
                guard entity.hasPrefix("#"), let value = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(value)
                else { return nil }
                result.append(scalar)
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        result.append(contentsOf: rest)
        return String(result)
    }

    private static func take(_ prefix: String, from scanner: inout Substring) -> Bool {
        guard scanner.hasPrefix(prefix) else { return false }
        scanner = scanner.dropFirst(prefix.count)
        return true
    }

    private static func skipWhitespace(_ scanner: inout Substring) {
        scanner = scanner.drop { $0.isWhitespace }
    }
}
