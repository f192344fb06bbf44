/// What a tenant's own template may not say. A code message is what a phisher would most like to
/// write: a link to their page, a decoy number, the origin-bound line (`@host #code`) that makes
/// browsers autofill the code into another site, or an SMS Retriever hash that hands it to
/// another Android app. The app's own WebOTP and SMS Retriever lines are added by the service
/// from the app's settings, never from a template.
package enum MessageContentRules {
    /// The first rule `body` (a template's text, placeholders unrendered) breaks; nil when none.
    package static func problem(in body: String) -> String? {
        let text = withoutPlaceholders(body)
        let lowered = text.lowercased()
        if lowered.contains("http://") || lowered.contains("https://") || lowered.contains("www.")
            || text.contains(#/[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}\//#)
        {
            return "the body may not contain a link (a URL, www. or a domain with a path)"
        }
        if text.contains(#/@[^\s@]+\s+#/#) {
            return "the body may not contain an origin-bound line (@host #code): the service adds the app's own"
        }
        if words(of: text).contains(where: isRetrieverHash) {
            return "the body may not contain an 11-character SMS Retriever hash: the service adds the app's own"
        }
        if text.contains(#/[0-9]{4,}/#) {
            return "the body may not contain a run of four or more digits other than {{code}}"
        }
        return nil
    }

    /// The text a reader sees around the placeholders: each `{{...}}` becomes a space.
    static func withoutPlaceholders(_ body: String) -> String {
        body.replacing(#/\{\{[^}]*\}\}/#, with: " ")
    }

    private static func words(of text: String) -> [Substring] {
        text.split(whereSeparator: { $0.isWhitespace })
    }

    /// Eleven characters of the base64 alphabet that are not a plain word: a letter and a digit, `+`
    /// or `/` among them (an eleven-letter word such as "Information" is not a hash).
    static func isRetrieverHash(_ word: Substring) -> Bool {
        let scalars = word.unicodeScalars
        guard scalars.count == 11 else { return false }
        var hasLetter = false
        var hasOther = false
        for scalar in scalars {
            switch scalar {
            case "A"..."Z", "a"..."z": hasLetter = true
            case "0"..."9", "+", "/": hasOther = true
            default: return false
            }
        }
        return hasLetter && hasOther
    }
}
