/// A pair that the matching rules allow between an annotation and a detection, before the one-to-one
/// matching (`FieldValidation.resolve`) takes the best ones.
struct MatchCandidate: Sendable, Equatable {
    /// Higher is better: the box IoU for a box, minus the squared centroid distance for a point.
    var score: Double
    /// The annotation's index in its list.
    var annotation: Int
    /// The detection's id.
    var detection: Int
}
