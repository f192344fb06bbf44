import Foundation
import HTTPTypes
import Hummingbird
import OTPHTTP

/// Text PostgreSQL refuses (`text` cannot hold NUL) is refused at the edge instead, with
/// `400 VALIDATION_ERROR` naming the field, for every route: JSON bodies in `JSONBody.decode`,
/// the path and query parameters in `InputTextMiddleware`.
enum InputText {
    static func holdsNUL(_ text: some StringProtocol) -> Bool { text.utf8.contains(0) }

    /// The first field (its top-level key; a nested one by its top-level parent) of a JSON object
    /// whose key or text value holds NUL, or nil. Cheap for the common case: bodies without the
    /// escape are not parsed again.
    static func fieldHoldingNUL(inJSON data: Data) -> String? {
        guard data.range(of: Data("\\u0000".utf8)) != nil || data.contains(0),
            let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any]
        else { return nil }
        guard let key = object.keys.sorted().first(where: { holdsNUL($0) || holdsNUL(in: object[$0] ?? "") })
        else { return nil }
        return holdsNUL(key) ? "body" : key
    }

    private static func holdsNUL(in value: Any) -> Bool {
        switch value {
        case let text as String: holdsNUL(text)
        case let array as [Any]: array.contains { holdsNUL(in: $0) }
        case let object as [String: Any]: object.contains { holdsNUL($0.key) || holdsNUL(in: $0.value) }
        default: false
        }
    }
}

/// Refuses a request whose path or query parameters hold NUL (`%00`), naming the parameter.
struct InputTextMiddleware: RouterMiddleware {
    typealias Context = OTPRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if InputText.holdsNUL(request.uri.path) {
            throw APIError.validation("path", "the path must not contain NUL characters")
        }
        for (name, value) in request.uri.queryParameters where InputText.holdsNUL(name) || InputText.holdsNUL(value) {
            let field = InputText.holdsNUL(name) ? "query" : String(name)
            throw APIError.validation(field, "\(field) must not contain NUL characters")
        }
        return try await next(request, context)
    }
}
