"""newsbeam's PTransforms, DoFns and the small parsers behind them."""
