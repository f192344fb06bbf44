import OTPCore
import OTPTemplates
import Testing

/// The predefined texts through the real Mustache renderer, and the checks a custom text must pass.
@Suite struct MessageTemplateTests {
    @Test(arguments: TemplateCatalog.locales)
    func everyPredefinedTemplateRendersWithTheCodeOnceInOneSegment(locale: String) throws {
        for useCase in UseCase.allCases {
            let (resolved, text) = TemplateCatalog.template(for: useCase, locale: locale)
            #expect(resolved == locale)
            let template = try MessageTemplate(validating: text)
            let rendered = template.render(code: "480213", appName: "Acme Bank 12", expiresInMinutes: 10)
            #expect(rendered.components(separatedBy: "480213").count == 2, "\(locale) \(useCase)")
            #expect(!rendered.contains("{{"), "\(locale) \(useCase)")
            #expect(SMSCounter.measure(rendered).segments == 1, "\(locale) \(useCase): \(rendered)")
        }
    }

    @Test func appNamesAreNotHTMLEscaped() throws {
        let template = try MessageTemplate(validating: "{{code}} is your {{app_name}} code")
        #expect(
            template.render(code: "1", appName: "Tom & Jerry's <Shop>", expiresInMinutes: 1)
                == "1 is your Tom & Jerry's <Shop> code")
    }

    @Test(arguments: [
        ("Your code", MessageTemplate.Problem.codeCount(0)),
        ("{{code}} and {{code}}", .codeCount(2)),
        ("{{code}} for {{user}}", .unknownVariable("user")),
        ("{{code}} {{#app_name}}x{{/app_name}}", .unsupportedTag("#app_name")),
        ("{{code}} {{> partial}}", .unsupportedTag("> partial")),
        ("   ", .empty),
        ("{{code}} " + String(repeating: "x", count: 470), .tooLong(segments: 4)),
        ("{{code}} " + String(repeating: "x", count: 1000), .tooManyCharacters),
    ])
    func customTextsAreChecked(text: String, problem: MessageTemplate.Problem) {
        #expect(throws: problem) { try MessageTemplate(validating: text) }
    }

    @Test func theChoiceFollowsRequestThenAppThenCountry() throws {
        var settings = MessageSettings()
        let brazil = try MessageChoice.choose(template: nil, custom: nil, locale: nil, settings: settings, region: "BR")
        #expect(brazil.locale == "pt-BR")
        let explicit = try MessageChoice.choose(
            template: "login", custom: nil, locale: "de-AT", settings: settings, region: "BR")
        #expect(
            explicit.locale == "de" && explicit.template == TemplateCatalog.template(for: .login, locale: "de").text)
        settings.defaultLocale = "fr"
        let appDefault = try MessageChoice.choose(
            template: nil, custom: nil, locale: nil, settings: settings, region: "BR")
        #expect(appDefault.locale == "fr")
        #expect(throws: OTPFailure.templateNotFound) {
            try MessageChoice.choose(
                template: "no_such_use_case", custom: nil, locale: nil, settings: settings, region: "BR")
        }
        settings.whatsAppTemplates = ["pt": WhatsAppTemplate(name: "otp_pt", language: "pt_BR")]
        let whatsapp = try MessageChoice.choose(
            template: nil, custom: nil, locale: "pt-BR", settings: settings, region: "BR")
        #expect(whatsapp.whatsAppTemplate == WhatsAppTemplate(name: "otp_pt", language: "pt_BR"))
    }
}
