import Foundation
import Hummingbird
import NIOCore
import OTPCore
import OTPHTTP
import OTPTemplates

/// `POST|GET /otp/templates`, `GET|PUT|DELETE /otp/templates/{id}`, `POST /otp/templates/{id}/preview`.
/// A template belongs to one app; the key must be allowed to use it, else the template does not exist.
struct TemplateController {
    let store: any TemplateStore
    let access: AppAccess

    func addRoutes(to group: RouterGroup<OTPRequestContext>) {
        group.post("templates", use: create)
        group.get("templates", use: list)
        group.get("templates/:id", use: show)
        group.put("templates/:id", use: update)
        group.delete("templates/:id", use: delete)
        group.post("templates/:id/preview", use: preview)
    }

    struct TemplateRequest: Decodable {
        var appid: String?
        var name: String?
        var locale: String?
        var body: String?
        var appName: String?

        enum CodingKeys: String, CodingKey {
            case appid, name, locale, body
            case appName = "app_name"
        }
    }

    @Sendable func create(request: Request, context: OTPRequestContext) async throws -> Response {
        let body = try JSONBody.decode(TemplateRequest.self, from: try await JSONBody.read(request))
        let app = try await access.app(body.appid, context: context)
        let name = try Self.name(body.name)
        let locale = try Self.locale(body.locale ?? "en")
        let text = try Self.validated(body.body)
        let template = try await store.create(appID: app.id, name: name, locale: locale, body: text.text)
        return try jsonResponse(TemplateItem(template, measure: text.measure()), status: .created)
    }

    @Sendable func list(request: Request, context: OTPRequestContext) async throws -> Response {
        let query = QueryReader(request)
        let limit = try query.integer("limit") ?? 50
        guard (1...1000).contains(limit) else { throw APIError.validation("limit", "limit must be 1 to 1000") }
        let apps = try await access.usableApps(try query.string("appid"), context: context)
        let page = try await store.list(appIDs: apps, limit: limit, cursor: try query.string("cursor"))
        return try jsonResponse(ListResponse(items: page.items.map { TemplateItem($0) }, nextCursor: page.nextCursor))
    }

    @Sendable func show(request: Request, context: OTPRequestContext) async throws -> Response {
        let template = try await find(context)
        return try jsonResponse(
            TemplateItem(
                template,
                measure: try? MessageTemplate(queued: template.body).measure()))
    }

    @Sendable func update(request: Request, context: OTPRequestContext) async throws -> Response {
        let body = try JSONBody.decode(TemplateRequest.self, from: try await JSONBody.read(request))
        let apps = try await access.usableApps(nil, context: context)
        if body.name != nil { _ = try Self.name(body.name) }
        guard body.name != nil || body.locale != nil || body.body != nil else {
            throw APIError.validation("body", "give at least one of name, locale and body")
        }
        let text = try body.body.map { try Self.validated($0) }
        let locale = try body.locale.map { try Self.locale($0) }
        guard
            let template = try await store.update(
                id: try templateID(context), appIDs: apps, name: body.name, locale: locale, body: text?.text)
        else { throw APIError(OTPFailure.templateNotFound) }
        return try jsonResponse(TemplateItem(template, measure: try? MessageTemplate(queued: template.body).measure()))
    }

    @Sendable func delete(request: Request, context: OTPRequestContext) async throws -> Response {
        let apps = try await access.usableApps(nil, context: context)
        guard try await store.delete(id: try templateID(context), appIDs: apps) else {
            throw APIError(OTPFailure.templateNotFound)
        }
        return Response(status: .noContent)
    }

    @Sendable func preview(request: Request, context: OTPRequestContext) async throws -> Response {
        let buffer = try await JSONBody.read(request)
        let body = buffer.readableBytes == 0 ? nil : try JSONBody.decode(TemplateRequest.self, from: buffer)
        let template = try await find(context)
        let text = try Self.validated(template.body)
        let rendered = TemplateRules.preview(text, appName: body?.appName ?? MessageTemplate.sampleAppName)
        return try jsonResponse(PreviewResponse(text: rendered.text, segments: rendered.segments))
    }

    private func find(_ context: OTPRequestContext) async throws -> CustomTemplate {
        let apps = try await access.usableApps(nil, context: context)
        guard let template = try await store.template(id: try templateID(context), appIDs: apps) else {
            throw APIError(OTPFailure.templateNotFound)
        }
        return template
    }

    private func templateID(_ context: OTPRequestContext) throws -> String {
        guard let id = context.parameters.get("id"), id.utf8.count <= 64 else {
            throw APIError(OTPFailure.templateNotFound)
        }
        return id
    }

    // The rules of `TemplateRules`, refusals as the API's validation errors.

    static func validated(_ body: String?) throws -> MessageTemplate {
        do { return try TemplateRules.body(body) } catch { throw APIError.validation(error.field, error.message) }
    }

    static func locale(_ text: String) throws -> String {
        do { return try TemplateRules.locale(text) } catch { throw APIError.validation(error.field, error.message) }
    }

    static func name(_ text: String?) throws -> String {
        do { return try TemplateRules.name(text) } catch { throw APIError.validation(error.field, error.message) }
    }
}

struct TemplateItem: Encodable {
    var template: CustomTemplate
    var measure: SMSSegments?

    init(_ template: CustomTemplate, measure: SMSSegments? = nil) {
        self.template = template
        self.measure = measure
    }

    enum CodingKeys: String, CodingKey {
        case id, appid, name, locale, body, version, encoding, segments
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(template.id, forKey: .id)
        try container.encode(template.appID, forKey: .appid)
        try container.encode(template.name, forKey: .name)
        try container.encode(template.locale, forKey: .locale)
        try container.encode(template.body, forKey: .body)
        try container.encode(template.version, forKey: .version)
        try container.encode(template.createdAt, forKey: .createdAt)
        try container.encode(template.updatedAt, forKey: .updatedAt)
        if let measure {
            try container.encode(measure.encoding.rawValue, forKey: .encoding)
            try container.encode(measure.segments, forKey: .segments)
        }
    }
}

struct PreviewResponse: Encodable {
    var text: String
    var segments: SMSSegments

    enum CodingKeys: String, CodingKey { case text, encoding, characters, segments }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(text, forKey: .text)
        try container.encode(segments.encoding.rawValue, forKey: .encoding)
        try container.encode(segments.characters, forKey: .characters)
        try container.encode(segments.segments, forKey: .segments)
    }
}
