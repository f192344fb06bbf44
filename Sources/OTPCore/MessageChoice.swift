import Foundation

/// An app's message settings: its default template and locale, the optional lines under every
/// message, and its approved WhatsApp templates per locale.
package struct MessageSettings: Sendable, Equatable {
    package var defaultTemplate: String?
    package var defaultLocale: String?
    package var extras: TemplateExtras
    /// Locale tag → the approved Meta authentication template for it.
    package var whatsAppTemplates: [String: WhatsAppTemplate]

    package init(
        defaultTemplate: String? = nil, defaultLocale: String? = nil, extras: TemplateExtras = TemplateExtras(),
        whatsAppTemplates: [String: WhatsAppTemplate] = [:]
    ) {
        self.defaultTemplate = defaultTemplate
        self.defaultLocale = defaultLocale
        self.extras = extras
        self.whatsAppTemplates = whatsAppTemplates
    }
}

/// A Meta-approved template: its name and the language it was approved in (`pt_BR`).
package struct WhatsAppTemplate: Sendable, Equatable, Codable {
    package var name: String
    package var language: String

    package init(name: String, language: String) {
        self.name = name
        self.language = language
    }
}

/// A template an app wrote, at one version.
package struct CustomTemplate: Sendable, Equatable {
    package var id: String
    package var appID: String
    package var name: String
    package var locale: String
    package var body: String
    package var version: Int
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: String, appID: String, name: String, locale: String, body: String, version: Int, createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.appID = appID
        self.name = name
        self.locale = locale
        self.body = body
        self.version = version
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// What a queued delivery will say, fixed when it is queued so that later edits do not change it.
package struct QueuedMessage: Sendable, Equatable {
    /// Mustache text with `{{code}}`, `{{app_name}}`, `{{expires_in_minutes}}`; never the code itself.
    package var template: String
    package var templateID: String?
    package var templateVersion: Int?
    package var locale: String
    package var whatsAppTemplate: WhatsAppTemplate?

    package init(
        template: String, templateID: String?, templateVersion: Int?, locale: String,
        whatsAppTemplate: WhatsAppTemplate?
    ) {
        self.template = template
        self.templateID = templateID
        self.templateVersion = templateVersion
        self.locale = locale
        self.whatsAppTemplate = whatsAppTemplate
    }
}

/// Chooses a message: the request's template and locale, else the app's defaults, else the locale
/// of the recipient's country; predefined texts fall back `pt-BR` → `pt` → `en`.
package enum MessageChoice {
    /// `template` is a use case name (`login`) or a custom template (already looked up, or nil).
    /// With a transaction, the message states its amount and payee: the predefined `transaction`
    /// texts, or a custom template that uses `{{amount}}` and `{{payee}}`; any other is refused.
    package static func choose(
        template: String?, custom: CustomTemplate?, locale: String?, settings: MessageSettings, region: String,
        transaction: Transaction? = nil
    ) throws(OTPFailure) -> QueuedMessage {
        let requestedLocale = locale ?? settings.defaultLocale ?? TemplateCatalog.defaultLocale(forRegion: region)
        if let custom {
            let statesPayment = custom.body.contains("{{amount}}") && custom.body.contains("{{payee}}")
            let namesPayment = custom.body.contains("{{amount}}") || custom.body.contains("{{payee}}")
            var body = custom.body
            if let transaction {
                guard statesPayment else {
                    throw .validation(
                        field: "template", message: "a payment's template must state {{amount}} and {{payee}}")
                }
                body = TemplateCatalog.statingPayment(body, transaction, locale: custom.locale)
            } else if namesPayment {
                throw .validation(field: "transaction", message: "this template states a payment: send its transaction")
            }
            return QueuedMessage(
                template: withExtras(body, locale: custom.locale, extras: settings.extras),
                templateID: custom.id,
                templateVersion: custom.version, locale: custom.locale,
                whatsAppTemplate: whatsApp(settings, locale: custom.locale))
        }
        let useCase: UseCase
        if let template {
            guard let named = UseCase(rawValue: template) else { throw .templateNotFound }
            useCase = named
        } else {
            useCase = transaction == nil ? .verification : .transaction
        }
        if transaction != nil && useCase != .transaction {
            throw .validation(field: "template", message: "a payment's message is the transaction template or your own")
        }
        let (resolved, text) = TemplateCatalog.message(
            for: useCase, locale: requestedLocale, extras: settings.extras, transaction: transaction)
        return QueuedMessage(
            template: text, templateID: nil, templateVersion: nil, locale: resolved,
            whatsAppTemplate: whatsApp(settings, locale: requestedLocale))
    }

    /// A custom body with the app's optional lines, in the order `TemplateCatalog.message` uses.
    static func withExtras(_ body: String, locale: String, extras: TemplateExtras) -> String {
        var lines = [body]
        if extras.doNotShare { lines.append(TemplateCatalog.doNotShare(locale: locale)) }
        if let hash = extras.smsRetrieverHash { lines.append(hash.value) }
        if let domain = extras.webOTPDomain { lines.append("@" + domain.value + " #{{code}}") }
        return lines.joined(separator: "\n")
    }

    /// The app's WhatsApp template for the locale: the exact tag, then its language, then `en`.
    static func whatsApp(_ settings: MessageSettings, locale: String) -> WhatsAppTemplate? {
        let templates = Dictionary(
            settings.whatsAppTemplates.map { ($0.key.lowercased().replacingOccurrences(of: "_", with: "-"), $0.value) },
            uniquingKeysWith: { first, _ in first })
        let tag = locale.lowercased().replacingOccurrences(of: "_", with: "-")
        let language = String(tag.prefix { $0 != "-" })
        return templates[tag] ?? templates[language] ?? templates["en"]
    }
}

/// The custom templates of the apps.
package protocol TemplateStore: Sendable {
    func create(appID: String, name: String, locale: String, body: String) async throws -> CustomTemplate
    /// The template when it exists, is not deleted, and belongs to one of `appIDs`.
    func template(id: String, appIDs: [String]) async throws -> CustomTemplate?
    func list(appIDs: [String], limit: Int, cursor: String?) async throws -> Page<CustomTemplate>
    /// A new version; nil when there is no such template.
    func update(id: String, appIDs: [String], name: String?, locale: String?, body: String?) async throws
        -> CustomTemplate?
    func delete(id: String, appIDs: [String]) async throws -> Bool
}
