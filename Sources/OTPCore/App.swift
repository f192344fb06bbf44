import Foundation

/// A tenant's application and its policy.
package struct App: Sendable, Equatable {
    package var id: String
    package var accountID: Int64
    package var name: String
    package var policy: AppPolicy

    package init(id: String, accountID: Int64, name: String, policy: AppPolicy) {
        self.id = id
        self.accountID = accountID
        self.name = name
        self.policy = policy
    }
}

/// An API key as stored: never the secret, only its digest.
package struct StoredAPIKey: Sendable, Equatable {
    package var keyID: String
    package var accountID: Int64
    package var secretDigest: Data
    /// The secret sealed under the server's key ring, for HS256 JWT checks; nil for keys made
    /// before secrets were sealed (their secret was derived from the id).
    package var sealedSecret: Data?
    /// The apps the key may use; nil for every app of its account.
    package var appIDs: [String]?
    package var revoked: Bool
    /// The key's app when it may use exactly one, read together with the key: most keys serve one
    /// app, and its requests then need no second lookup.
    package var soleApp: App?

    package init(
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

    package func mayUse(appID: String) -> Bool { appIDs?.contains(appID) ?? true }
}
