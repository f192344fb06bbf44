import Foundation

/// A tenant's application and its policy.
public struct App: Sendable, Equatable {
    public var id: String
    public var accountID: Int64
    public var name: String
    public var policy: AppPolicy

    public init(id: String, accountID: Int64, name: String, policy: AppPolicy) {
        self.id = id
        self.accountID = accountID
        self.name = name
        self.policy = policy
    }
}

/// An API key as stored: never the secret, only its digest.
public struct StoredAPIKey: Sendable, Equatable {
    public var keyID: String
    public var accountID: Int64
    public var secretDigest: Data
    /// The secret sealed under the server's key ring, for HS256 JWT checks; nil for keys made
    /// before secrets were sealed (their secret was derived from the id).
    public var sealedSecret: Data?
    /// The apps the key may use; nil for every app of its account.
    public var appIDs: [String]?
    public var revoked: Bool
    /// The key's app when it may use exactly one, read together with the key: most keys serve one
    /// app, and its requests then need no second lookup.
    public var soleApp: App?

    public init(
        keyID: String, accountID: Int64, secretDigest: Data, sealedSecret: Data? = nil, appIDs: [String]?,
        revoked: Bool, soleApp: App? = nil
    ) {
        self.keyID = keyID
        self.sealedSecret = sealedSecret
        self.accountID = accountID
        self.secretDigest = secretDigest
        self.appIDs = appIDs
        self.revoked = revoked
        self.soleApp = soleApp
    }

    public func mayUse(appID: String) -> Bool { appIDs?.contains(appID) ?? true }
}
