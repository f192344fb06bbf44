import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore
import OTPCore

/// The dashboard's Mustache templates, compiled into the binary, and the one way a page is made:
/// every value goes through Mustache's HTML escaping (`{{name}}`); only the server's own SVG is
/// put in unescaped (`{{{chart}}}`).
enum Pages {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        let templates: [(String, [UInt8])] = [
            ("header", PackageResources.header_mustache), ("footer", PackageResources.footer_mustache),
            ("login", PackageResources.login_mustache), ("overview", PackageResources.overview_mustache),
            ("apps", PackageResources.apps_mustache), ("app", PackageResources.app_mustache),
            ("webhook_secret", PackageResources.webhook_secret_mustache),
            ("keys", PackageResources.keys_mustache), ("key_created", PackageResources.key_created_mustache),
            ("templates", PackageResources.templates_mustache), ("template", PackageResources.template_mustache),
            ("verifications", PackageResources.verifications_mustache),
            ("verification", PackageResources.verification_mustache), ("logs", PackageResources.logs_mustache),
            ("reports", PackageResources.reports_mustache), ("problem", PackageResources.problem_mustache),
            ("fraud", PackageResources.fraud_mustache),
            ("template_form", PackageResources.template_form_mustache), ("filters", PackageResources.filters_mustache),
        ]
        MustacheContentTypes.register(ScalarHTMLContentType(), named: ScalarHTMLContentType.name)
        for (name, bytes) in templates {
            // The templates are part of the binary: one that does not parse is a build mistake.
            // swift-format-ignore: NeverUseForceTry
            try! library.register(
                ScalarHTMLContentType.pragma + String(decoding: bytes, as: UTF8.self), named: name)
        }
        return library
    }()

    static let stylesheet = ByteBuffer(bytes: PackageResources.dashboard_css)
    static let script = ByteBuffer(bytes: PackageResources.dashboard_js)
    static let icon = ByteBuffer(bytes: PackageResources.favicon_svg)

    /// A page for `who` (nil on the login and error pages of someone not signed in).
    static func render(
        _ name: String, title: String, _ model: [String: Any] = [:], who: SignedIn?, status: HTTPResponse.Status = .ok
    ) -> Response {
        var context = model
        context["title"] = title
        if let who {
            context["signed_in"] = true
            context["email"] = who.user.email
            context["account"] = who.user.account
            context["role"] = who.user.role.rawValue
            context["csrf"] = who.formToken
            context["owner"] = who.user.mayChange
        }
        context["nav_" + name] = true
        let html = library.render(context, withTemplate: name) ?? ""
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }
}
