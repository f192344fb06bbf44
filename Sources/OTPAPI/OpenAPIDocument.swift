/// The OpenAPI 3.1 description of the HTTP contract (`openapi.yaml` beside this file, compiled into
/// the binary), served at `GET /openapi.yaml`. A test checks its routes and error codes against the
/// router's.
package enum OpenAPIDocument {
    package static let yaml = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)
}
