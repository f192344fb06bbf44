import Foundation
import HummingbirdTesting
import OTPAPI
import OTPTesting
import Testing
import Yams

/// The served OpenAPI document against the router and the error codes: one contract, checked.
@Suite struct ContractTests {
    let document: [String: Any]

    init() throws {
        document = try #require(try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any])
    }

    @Test func theDocumentHasExactlyTheRoutersRoutes() throws {
        let paths = try #require(document["paths"] as? [String: Any])
        let methods = Set(["get", "put", "post", "delete", "patch", "head", "options"])
        var documented: Set<String> = []
        for (path, item) in paths {
            let operations = try #require(item as? [String: Any], "\(path)")
            for method in operations.keys where methods.contains(method) {
                documented.insert("\(method.uppercased()) \(path)")
            }
        }
        let world = try InMemoryWorld()
        let served = routeTable(world.dependencies).pairs
        #expect(documented.subtracting(served).sorted() == [], "documented, not served")
        #expect(served.subtracting(documented).sorted() == [], "served, not documented")
        #expect(served.count >= 19)
    }

    @Test func everyErrorCodeTheAPICanAnswerIsDocumented() throws {
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let detail = try #require(schemas["ErrorDetail"] as? [String: Any])
        let code = try #require((detail["properties"] as? [String: Any])?["code"] as? [String: Any])
        let documented = Set(try #require(code["enum"] as? [String]))
        #expect(documented == Set(ErrorCode.allCases.map(\.rawValue)))
    }

    @Test func theDocumentIsServedAsWhatItDeclares() async throws {
        let paths = try #require(document["paths"] as? [String: Any])
        let get = try #require((paths["/openapi.yaml"] as? [String: Any])?["get"] as? [String: Any])
        let ok = try #require((get["responses"] as? [String: Any])?["200"] as? [String: Any])
        let declared = try #require((ok["content"] as? [String: Any])?.keys.first)
        let world = try InMemoryWorld()
        try await world.test { client in
            let response = try await client.get("/openapi.yaml", headers: [:])
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix(declared) == true)
            #expect(String(buffer: response.body) == OpenAPIDocument.yaml)
        }
    }
}
