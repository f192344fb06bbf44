import OTPCore

/// What a custom template's fields must be, for the API and the dashboard alike.
package enum TemplateRules {
    /// A field that breaks a rule, and how to put it right.
    package struct Problem: Error, Equatable {
        package var field: String
        package var message: String
    }

    /// Counted in code points, as the table's length() counts (100 flags are 200 of them).
    package static func name(_ name: String?) throws(Problem) -> String {
        guard let name, (1...100).contains(name.unicodeScalars.count) else {
            throw Problem(field: "name", message: "name is required, 1 to 100 characters")
        }
        if let problem = DisplayName.problem(name, what: "name", maxLength: 100) {
            throw Problem(field: "name", message: problem)
        }
        return name
    }

    package static func locale(_ text: String) throws(Problem) -> String {
        guard SendValidation.isLocale(text) else {
            throw Problem(field: "locale", message: "locale must be a BCP 47 tag such as pt-BR")
        }
        return text
    }

    package static func body(_ body: String?) throws(Problem) -> MessageTemplate {
        guard let body else { throw Problem(field: "body", message: "body is required") }
        if let problem = MessageContentRules.problem(in: body) { throw Problem(field: "body", message: problem) }
        do {
            return try MessageTemplate(validating: body)
        } catch {
            throw Problem(field: "body", message: error.description)
        }
    }

    /// The message a template makes with a sample code, for previews.
    package static func preview(_ template: MessageTemplate, appName: String = MessageTemplate.sampleAppName)
        -> (text: String, segments: SMSSegments)
    {
        let text = template.render(code: "123456", appName: appName, expiresInMinutes: MessageTemplate.sampleMinutes)
        return (text, SMSCounter.measure(text))
    }
}
