import Foundation
import Hummingbird
import NIOCore
import NIOFoundationEssentialsCompat

/// Reads a request body (at most 64 KiB) and decodes it, mapping every failure to the contract's
/// errors: `INVALID_JSON` when it is not a JSON object, `VALIDATION_ERROR` naming the field otherwise.
enum JSONBody {
    static let limit = 64 * 1024

    static func read(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError.payloadTooLarge
        }
    }

    /// Decodes a request body. Every route's body comes through here, so this is where text
    /// PostgreSQL would refuse (a NUL character, which JSON can carry as `\u0000`) is refused,
    /// naming the field.
    static func decode<Body: Decodable>(_ type: Body.Type, from buffer: ByteBuffer) throws -> Body {
        guard buffer.readableBytes > 0 else { throw APIError.invalidJSON }
        let data = Data(buffer: buffer)
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: data)
        } catch let error as DecodingError {
            throw map(error)
        }
        if let field = InputText.fieldHoldingNUL(inJSON: data) {
            throw APIError.validation(field, "\(field) must not contain NUL characters")
        }
        return body
    }

    private static func map(_ error: DecodingError) -> APIError {
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
        @unknown default:
            path = []
        }
        guard let first = path.first else { return .invalidJSON }
        return .validation(first.stringValue, "\(first.stringValue) has the wrong type or value")
    }
}

/// Answers with a JSON body.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    Response(
        status: status, headers: [.contentType: "application/json; charset=utf-8"],
        body: .init(byteBuffer: ByteBuffer(data: try APICoding.encoder.encode(value))))
}

enum APICoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
