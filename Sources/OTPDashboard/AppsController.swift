import Foundation
import Hummingbird
import OTPCore
import OTPHTTP
import Synchronization

/// `GET|POST /dashboard/apps` (list, create) and `GET|POST /dashboard/apps/{appid}` (settings).
struct AppsController {
    let dependencies: DashboardDependencies
    let sessions: SessionCookies

    var administration: any AccountAdministration { dependencies.administration }
    var sealer: CodeSealer { CodeSealer(keys: dependencies.keys) }

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.get("apps", use: list)
        group.post("apps", use: create)
        group.get("apps/:appid", use: show)
        group.post("apps/:appid", use: save)
    }

    @Sendable func list(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        return try await listPage(who, error: nil, status: .ok)
    }

    @Sendable func create(request: Request, context: OTPRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        let who = try await sessions.changing(request, form: form)
        let name = form["name"] ?? ""
        if let problem = DisplayName.problem(name, what: "An app's name") {
            return try await listPage(who, error: problem + ".", status: .badRequest)
        }
        let app = try await administration.createApp(
            name: name, accountID: who.user.accountID, policy: .default, by: who.user.caller(ip: context.ip))
        return Pages.redirect(to: "/dashboard/apps/\(app.id)?saved=1")
    }

    @Sendable func show(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let app = try await find(context, who: who)
        let saved = FormData.query(request)["saved"] != nil
        return page(app, who: who, notice: saved ? "Saved." : nil, error: nil, status: .ok)
    }

    @Sendable func save(request: Request, context: OTPRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        let who = try await sessions.changing(request, form: form)
        let current = try await find(context, who: who)
        let newSecret = Mutex<String?>(nil)
        let saved: App
        let rules = dependencies.webhookDestinations.rules
        // The URL's name is resolved and checked before the save's transaction, not inside it.
        if let url = form["webhook_url"], url != current.policy.webhook?.url,
            let refusal = await dependencies.webhookDestinations.problemAtSave(url)
        {
            var attempted = current
            _ = try? PolicyForm.apply(form, to: &attempted, sealer: sealer, rules: rules)
            return page(attempted, who: who, notice: nil, error: refusal.description, status: .badRequest)
        }
        do {
            guard
                let app = try await administration.updateApp(
                    id: current.id, accountID: who.user.accountID, by: who.user.caller(ip: context.ip),
                    { app in
                        let secret = try PolicyForm.apply(form, to: &app, sealer: sealer, rules: rules)
                        newSecret.withLock { $0 = secret }
                    })
            else { throw DashboardError.notFound }
            saved = app
        } catch let problem as PolicyProblem {
            // The form again as it was sent, where it can be shown, with what is wrong.
            var attempted = current
            _ = try? PolicyForm.apply(form, to: &attempted, sealer: sealer, rules: rules)
            return page(attempted, who: who, notice: nil, error: problem.description, status: .unprocessableContent)
        }
        if let secret = newSecret.withLock({ $0 }) {
            // The one page that ever shows the secret: the answer to the save that made it.
            let model: [String: Any] = [
                "appid": saved.id, "name": saved.name, "webhook_url": saved.policy.webhook?.url ?? "",
                "webhook_secret": secret,
            ]
            return Pages.render("webhook_secret", title: "Webhook signing secret", model, who: who)
        }
        return Pages.redirect(to: "/dashboard/apps/\(current.id)?saved=1")
    }

    private func find(_ context: OTPRequestContext, who: SignedIn) async throws -> App {
        let id = context.parameters.get("appid") ?? ""
        guard let app = try await administration.apps(accountID: who.user.accountID).first(where: { $0.id == id })
        else { throw DashboardError.notFound }
        return app
    }

    private func listPage(_ who: SignedIn, error: String?, status: HTTPResponse.Status) async throws -> Response {
        let apps = try await administration.apps(accountID: who.user.accountID)
        var model: [String: Any] = [
            "apps": apps.map { app -> [String: Any] in
                [
                    "appid": app.id, "name": app.name,
                    "channels": app.policy.channels.map(\.rawValue).joined(separator: ", "),
                    "code_length": app.policy.codeLength, "ttl": app.policy.ttlSeconds,
                ]
            }
        ]
        if let error { model["error"] = error }
        return Pages.render("apps", title: "Apps", model, who: who, status: status)
    }

    private func page(_ app: App, who: SignedIn, notice: String?, error: String?, status: HTTPResponse.Status)
        -> Response
    {
        var model = PolicyForm.model(app)
        if let notice { model["notice"] = notice }
        if let error { model["error"] = error }
        return Pages.render("app", title: app.name, model, who: who, status: status)
    }
}
