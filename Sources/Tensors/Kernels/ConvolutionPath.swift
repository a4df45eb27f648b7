/// The way a convolution's pass is computed, chosen by its shape (the first that serves it, in
/// this order): depthwise or narrow layers directly, wide 3×3 stride-1 layers by Winograd's
/// F(4×4, 3×3) over many tiles where AVX2 or AVX-512 runs its transforms (forward and input
/// gradient only) and else by F(2×2, 3×3), wide 1×7 and 7×1 ones by F(2, 7) along one axis
/// (forward and input gradient only), the rest by unfolding into column matrices and a matrix
/// product.
enum ConvolutionPath: String, Sendable {
  case depthwise, direct, winograd
  case winograd4 = "winograd 4×4"
  case lineWinograd = "line winograd"
  case unfolded

  static func forward(_ s: ConvShape) -> ConvolutionPath {
    if Depthwise.serves(s) { return .depthwise }
    if DirectConvolution.servesForward(s) { return .direct }
    if Winograd4.servesForward(s) { return .winograd4 }
    if Winograd.servesForward(s) { return .winograd }
    if LineWinograd.servesForward(s) { return .lineWinograd }
    return .unfolded
  }

  static func inputGradient(_ s: ConvShape) -> ConvolutionPath {
    if Depthwise.serves(s) { return .depthwise }
    if DirectConvolution.servesInputGradient(s) { return .direct }
    if Winograd4.servesInputGradient(s) { return .winograd4 }
    if Winograd.servesInputGradient(s) { return .winograd }
    if LineWinograd.servesInputGradient(s) { return .lineWinograd }
    return .unfolded
  }

  static func filterGradient(_ s: ConvShape) -> ConvolutionPath {
    if Depthwise.serves(s) { return .depthwise }
    if DirectConvolution.servesForward(s) { return .direct }
    if Winograd.servesFilterGradient(s) { return .winograd }
    return .unfolded
  }
}
