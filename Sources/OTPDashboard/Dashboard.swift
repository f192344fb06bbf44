import Foundation
import Hummingbird
import NIOCore
import OTPCore
import OTPHTTP

/// What the dashboard needs: the same core services and stores as the API, plus its users.
package struct DashboardDependencies: Sendable {
    package var users: any DashboardUserStore
    package var administration: any AccountAdministration
    package var management: any ManagementStore
    package var templates: any TemplateStore
    package var service: VerificationService
    package var keys: ServerKeys
    /// Where an app's webhook URL may point.
    package var webhookDestinations: OutboundDestinations

    package init(
        users: any DashboardUserStore, administration: any AccountAdministration, management: any ManagementStore,
        templates: any TemplateStore, service: VerificationService, keys: ServerKeys,
        webhookDestinations: OutboundDestinations
    ) {
        self.users = users
        self.administration = administration
        self.management = management
        self.templates = templates
        self.service = service
        self.keys = keys
        self.webhookDestinations = webhookDestinations
    }
}

/// The web dashboard under `/dashboard/`, served by the same router as the API.
package struct Dashboard: Sendable {
    let dependencies: DashboardDependencies

    package init(_ dependencies: DashboardDependencies) { self.dependencies = dependencies }

    var sessions: SessionCookies {
        SessionCookies(users: dependencies.users, formKey: dependencies.keys.current.dashboardFormKey)
    }

    package func addRoutes(to router: Router<OTPRequestContext>) {
        let group = router.group("dashboard").add(middleware: DashboardPageMiddleware())
        group.get("static/dashboard.css") { _, _ in Self.asset(Pages.stylesheet, type: "text/css; charset=utf-8") }
        group.get("static/dashboard.js") { _, _ in
            Self.asset(Pages.script, type: "text/javascript; charset=utf-8")
        }
        group.get("static/favicon.svg") { _, _ in Self.asset(Pages.icon, type: "image/svg+xml") }
        LoginController(sessions: sessions, users: dependencies.users).addRoutes(to: group)
        InsightController(dependencies: dependencies, sessions: sessions).addRoutes(to: group)
        AppsController(dependencies: dependencies, sessions: sessions).addRoutes(to: group)
        KeysController(administration: dependencies.administration, sessions: sessions).addRoutes(to: group)
        TemplatesController(dependencies: dependencies, sessions: sessions).addRoutes(to: group)
        ActivityController(dependencies: dependencies, sessions: sessions).addRoutes(to: group)
        FraudController(dependencies: dependencies, sessions: sessions).addRoutes(to: group)
        // Any other path under /dashboard/ is a page that does not exist.
        group.get("**") { _, _ -> Response in throw DashboardError.notFound }
    }

    static func asset(_ buffer: ByteBuffer, type: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=3600"],
            body: .init(byteBuffer: buffer))
    }
}

extension OTPRequestContext {
    /// The client's address as the audit trail and the login limits see it.
    var ip: String? { clientIP }
}
