import Hummingbird

/// Why a dashboard request ends in something other than its page; `DashboardPageMiddleware` turns
/// each into a page (or a redirect) with its status.
package enum DashboardError: Error, Equatable {
    /// Not signed in: to the login page.
    case signInRequired
    /// No such page, or an id of another account.
    case notFound
    /// A viewer tried to change something.
    case viewerCannotChange
    /// The form's token is missing or is not this session's.
    case formExpired
    /// A field that cannot be read (the page says which).
    case badInput(String)
}
