import Foundation

/// Why a code is being sent. Each use case has its own wording, so a user who did not ask for a password reset
/// notices when one arrives.
package enum UseCase: String, Sendable, CaseIterable, Codable {
    case verification
    case signup
    case login
    case passwordReset = "password_reset"
    case transaction
    case phoneChange = "phone_change"
}

/// The predefined message texts, as Mustache templates, per use case and locale.
///
/// Variables: `{{code}}`, `{{app_name}}` and `{{expires_in_minutes}}`. Every text holds `{{code}}` exactly
/// once and near the start, because lock screens and notification banners show only the first words. Render
/// them as plain text, not HTML: HTML escaping would send an app called `Ben & Jerry's` as `Ben &amp; Jerry&#39;s`.
///
/// Length budget: rendered with a 12-character app name, a 6-digit code and 10 minutes (and still with a
/// 10-digit code), every text fits one SMS segment. Most texts are written in the GSM 7-bit default alphabet
/// (160 characters). That alphabet has `é`, `à`, `è`, `ñ`, `ä`, `ö`, `ü`, `ß` but not `á`, `í`, `ó`, `ú`,
/// `â`, `ê`, `ã`, `õ` or small `ç`, and one such letter sends the whole message as UCS-2 (70 characters). So
/// Spanish and Portuguese texts are phrased to avoid those letters where that reads naturally (`Usa 123456
/// para...`), and are kept within 70 characters where it does not (`código`, `transação`, `número`). Hindi
/// is always UCS-2. Apostrophes are ASCII `'`: a typographic `’` is not in GSM-7 either.
///
/// GSM-7 texts keep room for every optional line at once (do-not-share, SMS Retriever hash, and a WebOTP line
/// for an 11-character domain such as `example.com`) within one segment; the longest reach exactly 160. UCS-2
/// texts take two segments once any line is added.
///
/// App names are inserted without an article (`sua conta Acme`, `de Acme`, `für Acme`), because Portuguese,
/// Spanish, French and Italian articles depend on a brand's gender, which the template cannot know.
package enum TemplateCatalog {
    /// The variables a template body may use.
    package static let variables = ["code", "app_name", "expires_in_minutes", "amount", "payee"]

    /// Every locale with its own texts, each a canonical BCP 47 tag.
    package static let locales: [String] = ["en", "pt-BR", "pt", "es", "fr", "de", "it", "id", "hi"]

    /// The text for a use case in the closest locale the catalog has: the exact tag (`pt-BR`), then language
    /// and region with any script dropped (`pt-Latn-BR` → `pt-BR`), then the language alone (`pt-PT` → `pt`),
    /// then English. Tags are matched without regard to case, and `_` works as a separator (`PT_br`).
    package static func template(for useCase: UseCase, locale: String) -> (locale: String, text: String) {
        let resolved = resolveLocale(locale)
        return (resolved, texts(resolved).text(for: useCase))
    }

    /// The line appended after the text when the app asks for a do-not-share warning.
    package static func doNotShare(locale: String) -> String {
        texts(resolveLocale(locale)).doNotShare
    }

    /// The catalog locale a requested tag falls back to (see `template(for:locale:)`).
    package static func resolveLocale(_ requested: String) -> String {
        let parts = requested.split(whereSeparator: { $0 == "-" || $0 == "_" }).map { $0.lowercased() }
        guard let language = parts.first else { return "en" }
        var candidates = [parts.joined(separator: "-")]
        if let region = parts.dropFirst().first(where: isRegionSubtag) {
            candidates.append(language + "-" + region)
        }
        candidates.append(language)
        for candidate in candidates {
            if let locale = canonicalLocales[candidate] { return locale }
        }
        return "en"
    }

    /// The locale to use when a request names none, from the ISO 3166 region of the recipient's number.
    ///
    /// India (`IN`) gets English, not Hindi: English is the usual language of OTP messages there, Hindi is
    /// one of 22 scheduled languages and is not read across the south, east and north-east, and Devanagari
    /// forces UCS-2 (70 characters), so any optional line costs a second segment. Belgium (`BE`) gets English
    /// too: most Belgians speak Dutch, which the catalog lacks, and French is not a neutral default there.
    /// Switzerland gets German, its majority language. Unlisted regions get English.
    package static func defaultLocale(forRegion region: String) -> String {
        regionLocales[region.uppercased()] ?? "en"
    }

    /// The WebOTP line, as the origin-bound one-time code format defines it: `@` and the host, one space,
    /// `#` and the code. It must be the message's last line, since browsers read only the last line.
    package static let webOTPLine = "@{{domain}} #{{code}}"

    /// The template with the optional lines the app asked for, one per line, in this order:
    ///
    /// 1. the text of `template(for:locale:)`;
    /// 2. the do-not-share line, in the same locale;
    /// 3. the SMS Retriever hash on a line of its own. Google's server guide asks only that the message
    ///    include the hash (and stay within 140 bytes, one segment); its examples end with it;
    /// 4. the WebOTP line (`webOTPLine` with the domain filled in), last, because the origin-bound one-time
    ///    code spec reads the last line only and nothing may come before `@` on it.
    ///
    /// So with both, the hash goes on the line before the WebOTP line: SMS Retriever still finds it and the
    /// WebOTP line stays last. The result is still a Mustache template: `{{code}}` appears again in the
    /// WebOTP line, while the hash and domain are inserted as literals (both are checked when built, so they
    /// cannot inject Mustache tags).
    package static func message(
        for useCase: UseCase, locale: String, extras: TemplateExtras, transaction: Transaction? = nil
    ) -> (locale: String, text: String) {
        var (resolved, body) = template(for: useCase, locale: locale)
        if let transaction, useCase == .transaction {
            body = statingPayment(texts(resolved).payment, transaction, locale: resolved)
        }
        var lines = [body]
        if extras.doNotShare { lines.append(texts(resolved).doNotShare) }
        if let hash = extras.smsRetrieverHash { lines.append(hash.value) }
        if let domain = extras.webOTPDomain { lines.append("@" + domain.value + " #{{code}}") }
        return (resolved, lines.joined(separator: "\n"))
    }

    /// `text` with `{{amount}}` and `{{payee}}` put in as text: the amount as `locale` writes it, the
    /// payees as given (checked when the send was: no braces, no control characters, no digit runs
    /// or links, so they can neither form a Mustache tag nor pass for a code).
    package static func statingPayment(_ text: String, _ transaction: Transaction, locale: String) -> String {
        text.replacingOccurrences(of: "{{amount}}", with: transaction.formattedAmount(locale: locale))
            .replacingOccurrences(of: "{{payee}}", with: transaction.payeeText)
    }

    /// A region subtag: two letters or three digits (`br`, `419`), as opposed to a script (`latn`).
    private static func isRegionSubtag(_ subtag: String) -> Bool {
        let scalars = subtag.unicodeScalars
        if scalars.count == 2 { return scalars.allSatisfy { ("a"..."z").contains($0) } }
        if scalars.count == 3 { return scalars.allSatisfy { ("0"..."9").contains($0) } }
        return false
    }

    private static func texts(_ locale: String) -> LocaleTexts {
        catalog[locale] ?? english
    }

    private static let canonicalLocales: [String: String] = Dictionary(
        locales.map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })

    private static let regionLocales: [String: String] = [
        "BR": "pt-BR",
        // Portugal, and the countries that write European Portuguese.
        "PT": "pt", "AO": "pt", "MZ": "pt", "CV": "pt", "GW": "pt", "ST": "pt", "TL": "pt",
        "ES": "es", "MX": "es", "AR": "es", "CO": "es", "CL": "es", "PE": "es", "VE": "es", "EC": "es",
        "GT": "es", "CU": "es", "BO": "es", "DO": "es", "HN": "es", "PY": "es", "SV": "es", "NI": "es",
        "CR": "es", "PA": "es", "UY": "es", "PR": "es", "GQ": "es",
        "FR": "fr", "MC": "fr", "LU": "fr", "SN": "fr", "CI": "fr", "ML": "fr", "BF": "fr", "NE": "fr",
        "TG": "fr", "BJ": "fr", "GN": "fr", "GA": "fr", "CG": "fr", "CD": "fr",
        "DE": "de", "AT": "de", "CH": "de", "LI": "de",
        "IT": "it", "SM": "it", "VA": "it",
        "ID": "id",
        "IN": "en", "BE": "en",
    ]

    private static let catalog: [String: LocaleTexts] = [
        "en": english, "pt-BR": brazilianPortuguese, "pt": portuguese, "es": spanish, "fr": french, "de": german,
        "it": italian, "id": indonesian, "hi": hindi,
    ]

    private static let english = LocaleTexts(
        verification: "{{code}} is your {{app_name}} verification code. It expires in {{expires_in_minutes}} minutes.",
        signup: "{{code}} is your {{app_name}} sign-up code. It expires in {{expires_in_minutes}} minutes.",
        login: "{{code}} is your {{app_name}} login code. It expires in {{expires_in_minutes}} minutes.",
        passwordReset: "{{code}} is your {{app_name}} password reset code. "
            + "It expires in {{expires_in_minutes}} minutes.",
        transaction: "{{code}} is your {{app_name}} code to confirm this transaction. "
            + "It expires in {{expires_in_minutes}} minutes.",
        payment:
            "{{code}} is your {{app_name}} code to pay {{amount}} to {{payee}}. It expires in {{expires_in_minutes}} minutes.",
        phoneChange: "{{code}} is your {{app_name}} code to confirm your new phone number. "
            + "It expires in {{expires_in_minutes}} minutes.",
        doNotShare: "Don't share this code with anyone."
    )

    /// Brazilian Portuguese. `verification` and `transaction` need `código` and `transação`, so they are UCS-2
    /// and kept within 70 characters; `transaction` drops the expiry to fit.
    private static let brazilianPortuguese = LocaleTexts(
        verification: "{{code}} é seu código {{app_name}}. Expira em {{expires_in_minutes}} minutos.",
        signup: "Use {{code}} para criar sua conta {{app_name}}. Expira em {{expires_in_minutes}} minutos.",
        login: "Use {{code}} para entrar na sua conta {{app_name}}. Expira em {{expires_in_minutes}} minutos.",
        passwordReset: "Use {{code}} para redefinir sua senha {{app_name}}. Expira em {{expires_in_minutes}} minutos.",
        transaction: "{{code}} é seu código {{app_name}} para confirmar sua transação.",
        payment: "{{code}} é seu código {{app_name}} para pagar {{amount}} a {{payee}}.",
        phoneChange: "Use {{code}} para trocar o telefone da sua conta {{app_name}}. "
            + "Expira em {{expires_in_minutes}} minutos.",
        doNotShare: "Nunca o compartilhe com ninguém."
    )

    /// European Portuguese (`aceder`, `palavra-passe`, `o seu`). `verification`, `transaction` and
    /// `phoneChange` are UCS-2 within 70 characters; the last two drop the expiry to fit.
    private static let portuguese = LocaleTexts(
        verification: "{{code}} é o seu código {{app_name}}. Expira em {{expires_in_minutes}} minutos.",
        signup: "Utilize {{code}} para criar a sua conta {{app_name}}. Expira em {{expires_in_minutes}} minutos.",
        login: "Utilize {{code}} para aceder à sua conta {{app_name}}. Expira em {{expires_in_minutes}} minutos.",
        passwordReset: "Utilize {{code}} para redefinir a sua palavra-passe {{app_name}}. "
            + "Expira em {{expires_in_minutes}} minutos.",
        transaction: "{{code}} é o seu código {{app_name}} para confirmar a operação.",
        payment: "{{code}} é o seu código {{app_name}} para pagar {{amount}} a {{payee}}.",
        phoneChange: "{{code}} é o seu código {{app_name}} para confirmar o novo número.",
        doNotShare: "Nunca o partilhe com ninguém."
    )

    /// Spanish for Spain and Latin America alike (`tú`, `acceder`, no `celular` or `móvil`). `transaction` and
    /// `phoneChange` need `código` and `número`, so they are UCS-2 within 70 characters, without the expiry.
    private static let spanish = LocaleTexts(
        verification: "Usa {{code}} para verificar tu cuenta de {{app_name}}. "
            + "Expira en {{expires_in_minutes}} minutos.",
        signup: "Usa {{code}} para crear tu cuenta de {{app_name}}. Expira en {{expires_in_minutes}} minutos.",
        login: "Usa {{code}} para acceder a {{app_name}}. Expira en {{expires_in_minutes}} minutos.",
        passwordReset: "Usa {{code}} para restablecer tu contraseña de {{app_name}}. "
            + "Expira en {{expires_in_minutes}} minutos.",
        transaction: "{{code}} es tu código de {{app_name}} para confirmar la operación.",
        payment: "{{code}} es tu código de {{app_name}} para pagar {{amount}} a {{payee}}.",
        phoneChange: "{{code}} es tu código de {{app_name}} para cambiar de número.",
        doNotShare: "No lo compartas con nadie."
    )

    private static let french = LocaleTexts(
        verification: "{{code}} est votre code de vérification {{app_name}}. "
            + "Il expire dans {{expires_in_minutes}} minutes.",
        signup: "{{code}} est votre code d'inscription {{app_name}}. Il expire dans {{expires_in_minutes}} minutes.",
        login: "{{code}} est votre code de connexion {{app_name}}. Il expire dans {{expires_in_minutes}} minutes.",
        passwordReset: "{{code}} est votre code {{app_name}} pour réinitialiser votre mot de passe. "
            + "Valable {{expires_in_minutes}} minutes.",
        transaction: "{{code}} est votre code {{app_name}} pour valider votre opération. "
            + "Il expire dans {{expires_in_minutes}} minutes.",
        payment:
            "{{code}} est votre code {{app_name}} pour payer {{amount}} à {{payee}}. Valable {{expires_in_minutes}} min.",
        phoneChange: "{{code}} est votre code {{app_name}} pour confirmer votre nouveau numéro. "
            + "Valable {{expires_in_minutes}} minutes.",
        doNotShare: "Ne le communiquez à personne."
    )

    /// German, formal `Sie` as banks and most services write it.
    private static let german = LocaleTexts(
        verification: "{{code}} ist Ihr Bestätigungscode für {{app_name}}. "
            + "Er ist {{expires_in_minutes}} Minuten gültig.",
        signup: "{{code}} ist Ihr Registrierungscode für {{app_name}}. Er ist {{expires_in_minutes}} Minuten gültig.",
        login: "{{code}} ist Ihr Anmeldecode für {{app_name}}. Er ist {{expires_in_minutes}} Minuten gültig.",
        passwordReset: "Mit {{code}} setzen Sie Ihr Passwort bei {{app_name}} zurück. "
            + "Der Code ist {{expires_in_minutes}} Minuten gültig.",
        transaction: "Mit {{code}} geben Sie Ihre Transaktion bei {{app_name}} frei. "
            + "Der Code ist {{expires_in_minutes}} Minuten gültig.",
        payment:
            "Mit {{code}} zahlen Sie {{amount}} an {{payee}} über {{app_name}}. Gültig {{expires_in_minutes}} Min.",
        phoneChange: "Mit {{code}} bestätigen Sie Ihre neue Nummer bei {{app_name}}. "
            + "Der Code ist {{expires_in_minutes}} Minuten gültig.",
        doNotShare: "Geben Sie ihn an niemanden weiter."
    )

    /// Italian. Only lowercase accented vowels are in GSM-7, so no text starts with `È`.
    private static let italian = LocaleTexts(
        verification: "{{code}} è il tuo codice di verifica {{app_name}}. Scade tra {{expires_in_minutes}} minuti.",
        signup: "{{code}} è il tuo codice di registrazione {{app_name}}. Scade tra {{expires_in_minutes}} minuti.",
        login: "{{code}} è il tuo codice di accesso {{app_name}}. Scade tra {{expires_in_minutes}} minuti.",
        passwordReset: "{{code}} è il tuo codice {{app_name}} per reimpostare la password. "
            + "Scade tra {{expires_in_minutes}} minuti.",
        transaction: "{{code}} è il tuo codice {{app_name}} per confermare l'operazione. "
            + "Scade tra {{expires_in_minutes}} minuti.",
        payment:
            "{{code}} è il tuo codice {{app_name}} per pagare {{amount}} a {{payee}}. Valido {{expires_in_minutes}} minuti.",
        phoneChange: "{{code}} è il tuo codice {{app_name}} per confermare il nuovo numero. "
            + "Scade tra {{expires_in_minutes}} minuti.",
        doNotShare: "Non condividerlo con nessuno."
    )

    private static let indonesian = LocaleTexts(
        verification: "{{code}} adalah kode verifikasi {{app_name}} Anda. Berlaku {{expires_in_minutes}} menit.",
        signup: "{{code}} adalah kode pendaftaran {{app_name}} Anda. Berlaku {{expires_in_minutes}} menit.",
        login: "{{code}} adalah kode masuk {{app_name}} Anda. Berlaku {{expires_in_minutes}} menit.",
        passwordReset: "{{code}} adalah kode reset kata sandi {{app_name}} Anda. Berlaku {{expires_in_minutes}} menit.",
        transaction: "{{code}} adalah kode konfirmasi transaksi {{app_name}} Anda. "
            + "Berlaku {{expires_in_minutes}} menit.",
        payment:
            "{{code}} adalah kode {{app_name}} untuk membayar {{amount}} ke {{payee}}. Berlaku {{expires_in_minutes}} menit.",
        phoneChange: "{{code}} adalah kode {{app_name}} untuk mengganti nomor ponsel Anda. "
            + "Berlaku {{expires_in_minutes}} menit.",
        doNotShare: "Jangan berikan kode ini kepada siapa pun."
    )

    /// Hindi, always UCS-2, so every text stays within 70 UTF-16 units (vowel signs and the virama count as
    /// units of their own).
    private static let hindi = LocaleTexts(
        verification: "{{code}} आपका {{app_name}} सत्यापन कोड है। {{expires_in_minutes}} मिनट तक मान्य।",
        signup: "{{code}} आपका {{app_name}} पंजीकरण कोड है। {{expires_in_minutes}} मिनट तक मान्य।",
        login: "{{code}} आपका {{app_name}} लॉगिन कोड है। {{expires_in_minutes}} मिनट तक मान्य।",
        passwordReset: "{{code}} आपका {{app_name}} पासवर्ड रीसेट कोड है। {{expires_in_minutes}} मिनट तक मान्य।",
        transaction: "{{code}} आपका {{app_name}} लेनदेन पुष्टि कोड है। {{expires_in_minutes}} मिनट तक मान्य।",
        payment: "{{code}} आपका {{app_name}} कोड है: {{payee}} को {{amount}} का भुगतान। {{expires_in_minutes}} मिनट तक मान्य।",
        phoneChange: "{{code}} आपका {{app_name}} नंबर बदलने का कोड है। {{expires_in_minutes}} मिनट तक मान्य।",
        doNotShare: "इसे किसी से साझा न करें।"
    )
}

/// The optional lines an app can ask for under the text of a message.
package struct TemplateExtras: Sendable, Equatable {
    /// Adds `TemplateCatalog.doNotShare(locale:)` on its own line.
    package var doNotShare: Bool
    /// Adds the hash on its own line, for Android's SMS Retriever API.
    package var smsRetrieverHash: SMSRetrieverHash?
    /// Adds the WebOTP line for this domain as the last line.
    package var webOTPDomain: WebOTPDomain?

    package init(
        doNotShare: Bool = false, smsRetrieverHash: SMSRetrieverHash? = nil, webOTPDomain: WebOTPDomain? = nil
    ) {
        self.doNotShare = doNotShare
        self.smsRetrieverHash = smsRetrieverHash
        self.webOTPDomain = webOTPDomain
    }
}

/// The 11-character hash by which Android's SMS Retriever API hands a message to one app: the start of the
/// base64 SHA-256 of the package name and signing certificate, so letters, digits, `+` and `/`, all of them
/// one septet in GSM-7.
package struct SMSRetrieverHash: Sendable, Hashable {
    package let value: String

    package init?(_ text: String) {
        let scalars = text.unicodeScalars
        guard scalars.count == 11, scalars.allSatisfy(Self.isBase64) else { return nil }
        value = text
    }

    private static func isBase64(_ scalar: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
            || scalar == "+" || scalar == "/"
    }
}

/// The host a WebOTP line binds the code to (`example.com`): ASCII labels of letters, digits and inner
/// hyphens, stored lowercase. Internationalised names must come in their `xn--` form.
package struct WebOTPDomain: Sendable, Hashable {
    package let value: String

    package init?(_ text: String) {
        let host = text.lowercased()
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard host.utf8.count <= 253, labels.allSatisfy(Self.isLabel) else { return nil }
        value = host
    }

    private static func isLabel(_ label: Substring) -> Bool {
        let scalars = label.unicodeScalars
        guard (1...63).contains(scalars.count), scalars.first != "-", scalars.last != "-" else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}

/// One locale's texts. A stored property per use case, so a locale missing a text fails to compile rather
/// than falling back at run time.
private struct LocaleTexts: Sendable {
    var verification: String
    var signup: String
    var login: String
    var passwordReset: String
    var transaction: String
    /// The `transaction` use case with a payment: it states the amount (`{{amount}}`, formatted
    /// for the locale) and the payee (`{{payee}}`), both put in as text when the message is queued.
    var payment: String
    var phoneChange: String
    var doNotShare: String

    func text(for useCase: UseCase) -> String {
        switch useCase {
        case .verification: verification
        case .signup: signup
        case .login: login
        case .passwordReset: passwordReset
        case .transaction: transaction
        case .phoneChange: phoneChange
        }
    }
}
