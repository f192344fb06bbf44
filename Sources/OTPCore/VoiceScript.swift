import Foundation

/// What a verification call says: the code's digits one at a time, then once more, in the
/// language of the message's locale.
///
/// Digits are separated by commas, so that text-to-speech reads `4, 0, 7` as three digits and not
/// as "four hundred and seven", and pauses between them long enough to write each one down.
package struct VoiceScript: Sendable, Equatable {
    /// The language to speak, as a BCP 47 tag with a region (`pt-BR`), as voice vendors name them.
    package var language: String
    /// What to say, in order: the code, then the code again.
    package var sentences: [String]

    package init(language: String, sentences: [String]) {
        self.language = language
        self.sentences = sentences
    }

    /// The script for `code` from `appName`, in the catalog locale closest to `locale` (English when
    /// the catalog has no voice wording for it).
    package init(appName: String, code: String, locale: String?) {
        let resolved = TemplateCatalog.resolveLocale(locale ?? "en")
        let wording = Self.wordings[resolved] ?? Self.english
        let digits = code.map(String.init).joined(separator: ", ")
        self.init(
            language: wording.language,
            sentences: [
                wording.first.replacingOccurrences(of: "{app}", with: appName) + " " + digits + ".",
                wording.again + " " + digits + ".",
            ])
    }

    struct Wording {
        var language: String
        /// Says whose code it is and leads into the digits; `{app}` is the app's name.
        var first: String
        /// Leads into the digits the second time.
        var again: String
    }

    static let english = Wording(
        language: "en-US", first: "Your {app} verification code is:", again: "Again, your code is:")

    /// One wording per catalog locale (`TemplateCatalog.locales`).
    static let wordings: [String: Wording] = [
        "en": english,
        "pt-BR": Wording(language: "pt-BR", first: "O seu código de verificação de {app} é:", again: "Repetindo:"),
        "pt": Wording(language: "pt-PT", first: "O seu código de verificação de {app} é:", again: "Repito:"),
        "es": Wording(language: "es-ES", first: "Tu código de verificación de {app} es:", again: "Repito:"),
        "fr": Wording(language: "fr-FR", first: "Votre code de vérification {app} est :", again: "Je répète :"),
        "de": Wording(language: "de-DE", first: "Ihr Bestätigungscode für {app} lautet:", again: "Noch einmal:"),
        "it": Wording(language: "it-IT", first: "Il tuo codice di verifica per {app} è:", again: "Ripeto:"),
        "id": Wording(language: "id-ID", first: "Kode verifikasi {app} Anda adalah:", again: "Sekali lagi:"),
        "hi": Wording(language: "hi-IN", first: "{app} के लिए आपका सत्यापन कोड है:", again: "फिर से:"),
    ]
}
