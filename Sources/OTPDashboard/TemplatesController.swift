import Foundation
import Hummingbird
import NIOCore
import OTPCore
import OTPHTTP
import OTPTemplates

/// `/dashboard/templates`: the account's custom templates, with a preview of the message each
/// makes (its text with a sample code, its SMS encoding and segments). The preview is drawn by the
/// server on a "Preview" submit, so it needs no script; a small script also refreshes it while
/// typing, from `GET /dashboard/templates/preview`.
struct TemplatesController {
    let dependencies: DashboardDependencies
    let sessions: SessionCookies

    var store: any TemplateStore { dependencies.templates }

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.get("templates", use: list)
        group.post("templates", use: create)
        group.get("templates/preview", use: livePreview)
        group.get("templates/:id", use: show)
        group.post("templates/:id", use: save)
        group.post("templates/:id/delete", use: delete)
    }

    /// What the form holds: the template's fields, or what was just sent.
    struct Draft {
        var appID: String?
        var name: String
        var locale: String
        var body: String
    }

    @Sendable func list(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let draft = Draft(appID: nil, name: "", locale: "en", body: "Your {{app_name}} code is {{code}}.")
        return try await page(who, template: nil, draft: draft, notice: nil, error: nil, status: .ok)
    }

    @Sendable func show(request: Request, context: OTPRequestContext) async throws -> Response {
        let who = try await sessions.signedIn(request)
        let template = try await find(context, who: who)
        let saved = FormData.query(request)["saved"] != nil
        return try await page(
            who, template: template, draft: Draft(template), notice: saved ? "Saved." : nil, error: nil, status: .ok)
    }

    @Sendable func create(request: Request, context: OTPRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        let who = try await sessions.changing(request, form: form)
        let draft = Draft(form)
        if form["action"] == "preview" {
            return try await page(who, template: nil, draft: draft, notice: nil, error: nil, status: .ok)
        }
        let apps = try await appIDs(who)
        guard let appID = draft.appID, apps.contains(appID) else {
            return try await page(
                who, template: nil, draft: draft, notice: nil, error: "Choose an app.", status: .unprocessableContent)
        }
        do {
            let name = try TemplateRules.name(draft.name)
            let locale = try TemplateRules.locale(draft.locale)
            let body = try TemplateRules.body(draft.body)
            let template = try await store.create(appID: appID, name: name, locale: locale, body: body.text)
            try await dependencies.administration.record(
                .templateCreated, appID: appID, by: who.user.caller(ip: context.ip),
                details: ["template_id": template.id])
            return Pages.redirect(to: "/dashboard/templates/\(template.id)?saved=1")
        } catch let problem as TemplateRules.Problem {
            return try await page(
                who, template: nil, draft: draft, notice: nil, error: problem.message, status: .unprocessableContent)
        }
    }

    @Sendable func save(request: Request, context: OTPRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        let who = try await sessions.changing(request, form: form)
        let template = try await find(context, who: who)
        var draft = Draft(form)
        draft.appID = template.appID
        if form["action"] == "preview" {
            return try await page(who, template: template, draft: draft, notice: nil, error: nil, status: .ok)
        }
        do {
            let name = try TemplateRules.name(draft.name)
            let locale = try TemplateRules.locale(draft.locale)
            let body = try TemplateRules.body(draft.body)
            guard
                try await store.update(
                    id: template.id, appIDs: [template.appID], name: name, locale: locale, body: body.text) != nil
            else { throw DashboardError.notFound }
            try await dependencies.administration.record(
                .templateUpdated, appID: template.appID, by: who.user.caller(ip: context.ip),
                details: ["template_id": template.id])
            return Pages.redirect(to: "/dashboard/templates/\(template.id)?saved=1")
        } catch let problem as TemplateRules.Problem {
            return try await page(
                who, template: template, draft: draft, notice: nil, error: problem.message,
                status: .unprocessableContent)
        }
    }

    @Sendable func delete(request: Request, context: OTPRequestContext) async throws -> Response {
        let form = try await FormData.read(request)
        let who = try await sessions.changing(request, form: form)
        let template = try await find(context, who: who)
        guard try await store.delete(id: template.id, appIDs: [template.appID]) else { throw DashboardError.notFound }
        try await dependencies.administration.record(
            .templateDeleted, appID: template.appID, by: who.user.caller(ip: context.ip),
            details: ["template_id": template.id])
        return Pages.redirect(to: "/dashboard/templates")
    }

    /// The preview as JSON for the page's script: `{"text", "encoding", "segments"}` or `{"error"}`.
    @Sendable func livePreview(request: Request, context: OTPRequestContext) async throws -> Response {
        _ = try await sessions.signedIn(request)
        let preview = Self.preview(FormData.query(request).raw("body") ?? "")
        let object: [String: String] =
            preview.error.map { ["error": $0] } ?? [
                "text": preview.text, "encoding": preview.encoding, "segments": preview.segments,
            ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func preview(_ body: String) -> (text: String, encoding: String, segments: String, error: String?) {
        do {
            let template = try TemplateRules.body(body)
            let (text, segments) = TemplateRules.preview(template)
            return (text, segments.encoding.rawValue, String(segments.segments), nil)
        } catch {
            return ("", "", "", error.message)
        }
    }

    private func appIDs(_ who: SignedIn) async throws -> [String] {
        try await dependencies.administration.apps(accountID: who.user.accountID).map(\.id)
    }

    private func find(_ context: OTPRequestContext, who: SignedIn) async throws -> CustomTemplate {
        let id = context.parameters.get("id") ?? ""
        guard id.utf8.count <= 64, let template = try await store.template(id: id, appIDs: try await appIDs(who))
        else { throw DashboardError.notFound }
        return template
    }

    private func page(
        _ who: SignedIn, template: CustomTemplate?, draft: Draft, notice: String?, error: String?,
        status: HTTPResponse.Status
    ) async throws -> Response {
        let apps = try await dependencies.administration.apps(accountID: who.user.accountID)
        let names = Dictionary(apps.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let preview = Self.preview(draft.body)
        var model: [String: Any] = [
            "draft_name": draft.name, "draft_locale": draft.locale, "draft_body": draft.body,
            "preview_text": preview.text, "preview_encoding": preview.encoding, "preview_segments": preview.segments,
            "apps": apps.map { ["appid": $0.id, "name": $0.name, "selected": $0.id == draft.appID] },
        ]
        if let problem = preview.error { model["preview_error"] = problem }
        if let notice { model["notice"] = notice }
        if let error { model["error"] = error }
        if let template {
            model["template_id"] = template.id
            model["template_app"] = names[template.appID] ?? template.appID
            model["version"] = template.version
            return Pages.render("template", title: "Template \(template.name)", model, who: who, status: status)
        }
        let templates = try await store.list(appIDs: apps.map(\.id), limit: 1000, cursor: nil).items
        model["templates"] = templates.map { template -> [String: Any] in
            [
                "id": template.id, "name": template.name, "locale": template.locale, "version": template.version,
                "app": names[template.appID] ?? template.appID, "updated_at": DisplayTime.format(template.updatedAt),
            ]
        }
        return Pages.render("templates", title: "Templates", model, who: who, status: status)
    }
}

extension TemplatesController.Draft {
    init(_ template: CustomTemplate) {
        self.init(appID: template.appID, name: template.name, locale: template.locale, body: template.body)
    }

    init(_ form: FormData) {
        self.init(
            appID: form["appid"], name: form["name"] ?? "", locale: form["locale"] ?? "en",
            body: form.raw("body")?.replacingOccurrences(of: "\r\n", with: "\n") ?? "")
    }
}
