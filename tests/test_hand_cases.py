"""Small cycles worked by hand: every expected string below was computed on paper."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import problem
from handcalc.model.runner import make_trace


def texts(data: dict[str, Any]) -> dict[str, list[str]]:
    t = make_trace(problem(data))
    return {s.id: s.texts() for s in t.iterations[0]}


def tie_network(rule: str, per: str) -> dict[str, Any]:
    # z = 0.15 * 0.5 + 0.25 * 0.5 = 0.075 + 0.125: both products are ties at 2 decimals
    return {
        "network": {"widths": [2, 1], "head": "identity", "loss": "half_sse", "bias": False},
        "data": {"x": [0.5, 0.5], "y": [0]},
        "parameters": {"W1": [[0.15, 0.25]]},
        "training": {"learning_rate": 0.1},
        "rounding": {"digits": 2, "rule": rule, "per": per},
    }


@pytest.mark.parametrize(
    ("rule", "per", "z", "dW", "W_next"),
    [
        # exact 0.2, rounded once; dW = 0.2 * 0.5 = 0.1; W - 0.1 * 0.1
        ("half_up", "value", "0.20", ["0.10", "0.10"], ["0.14", "0.24"]),
        ("half_even", "value", "0.20", ["0.10", "0.10"], ["0.14", "0.24"]),
        # 0.08 + 0.13 = 0.21; dW = 0.105 -> 0.11 (both entries); 0.1 * 0.11 = 0.011 -> 0.01
        ("half_up", "operation", "0.21", ["0.11", "0.11"], ["0.14", "0.24"]),
        # 0.08 + 0.12 = 0.20 (0.125 goes to the even 0.12)
        ("half_even", "operation", "0.20", ["0.10", "0.10"], ["0.14", "0.24"]),
    ],
)
def test_ties_and_per(rule: str, per: str, z: str, dW: list[str], W_next: list[str]) -> None:
    got = texts(tie_network(rule, per))
    assert got["z1"] == [z]
    assert got["yhat"] == [z]
    assert got["dyhat"] == [z]  # ŷ - y with y = 0
    assert got["dW1"] == dW
    assert got["W1_next"] == W_next
    assert "db1" not in got and "b1" not in got  # bias: false writes no b steps


def test_significant_digits_per_operation() -> None:
    data = tie_network("half_up", "operation")
    data["rounding"] = {"digits": 2, "mode": "significant", "rule": "half_even", "per": "operation"}
    # 0.075 + 0.12 = 0.195 -> 0.20 (9 is odd, so the tie goes up to the even 0.20)
    assert texts(data)["z1"] == ["0.20"]
    data["rounding"]["rule"] = "half_up"
    assert texts(data)["z1"] == ["0.21"]  # 0.075 + 0.13 = 0.205 -> 0.21


def test_softmax_cross_entropy_single_layer() -> None:
    got = texts(
        {
            "network": {"widths": [2, 2], "head": "softmax", "loss": "cross_entropy"},
            "data": {"x": [1.0, 0.5], "label": 1},
            "parameters": {"W1": [[0.2, -0.4], [0.5, 0.0]], "b1": [0, 0]},
            "training": {"learning_rate": 0.5},
            "rounding": {"digits": 4},
        }
    )
    assert got["z1"] == ["0.0000", "0.5000"]
    assert got["exp_z"] == ["1.0000", "1.6487"]  # e^0.5 = 1.648721...
    assert got["sum_exp"] == ["2.6487"]
    assert got["yhat"] == ["0.3775", "0.6225"]  # 1 / 2.6487 = 0.377543..., 1.6487 / 2.6487
    assert got["y"] == ["1.0000", "0.0000"]  # the one-hot of label 1
    assert got["loss"] == ["0.9742"]  # -ln 0.3775 = 0.974184...
    assert got["dz1"] == ["-0.6225", "0.6225"]
    assert got["db1"] == ["-0.6225", "0.6225"]
    # -0.6225 * 0.5 = -0.31125: a tie, away from zero under half_up
    assert got["dW1"] == ["-0.6225", "-0.3113", "0.6225", "0.3113"]
    # 0.2 - 0.5 * (-0.6225) = 0.51125 -> 0.5113; 0.0 - 0.5 * 0.3113 = -0.15565 -> -0.1557
    assert got["W1_next"] == ["0.5113", "-0.2444", "0.1888", "-0.1557"]
    assert got["b1_next"] == ["0.3113", "-0.3113"]


def test_softmax_tie_half_even() -> None:
    got = texts(
        {
            "network": {"widths": [2, 2]},
            "data": {"x": [1.0, 0.5], "label": 1},
            "parameters": {"W1": [[0.2, -0.4], [0.5, 0.0]], "b1": [0, 0]},
            "rounding": {"digits": 4, "rule": "half_even"},
        }
    )
    assert got["dW1"] == ["-0.6225", "-0.3112", "0.6225", "0.3112"]


def relu_network(activation: str) -> dict[str, Any]:
    return {
        "network": {
            "widths": [1, 2, 1],
            "activation": activation,
            "head": "identity",
            "loss": "half_sse",
        },
        "data": {"x": [2.0], "y": [0.0]},
        "parameters": {"W1": [[0.5], [0.0]], "b1": [0, 0], "W2": [[1.5, 2.0]], "b2": [0.1]},
        "training": {"learning_rate": 0.1},
        "rounding": {"digits": 2},
    }


def test_two_layer_relu_backward_pass() -> None:
    got = texts(relu_network("relu"))
    assert got["z1"] == ["1.00", "0.00"]
    assert got["h1"] == ["1.00", "0.00"]
    assert got["z2"] == ["1.60"]  # 1.5 * 1 + 2 * 0 + 0.1
    assert got["loss"] == ["1.28"]  # 1/2 * 1.6^2
    assert got["dz2"] == ["1.60"]
    assert got["dW2"] == ["1.60", "0.00"]
    assert got["db2"] == ["1.60"]
    assert got["dh1"] == ["2.40", "3.20"]  # (W2)^T dz2
    assert got["dhdz1"] == ["1.00", "0.00"]  # ReLU'(0) = 0, as in PyTorch
    assert got["dz1"] == ["2.40", "0.00"]
    assert got["dW1"] == ["4.80", "0.00"]
    assert got["W1_next"] == ["0.02", "0.00"]
    assert got["W2_next"] == ["1.34", "2.00"]
    assert got["b2_next"] == ["-0.06"]


def test_leaky_relu_derivative_at_zero() -> None:
    got = texts(relu_network("leaky_relu"))
    assert got["dhdz1"] == ["1.00", "0.01"]  # leaky_relu'(0) = 0.01, as in PyTorch
    assert got["dz1"] == ["2.40", "0.03"]  # 0.01 * 3.2 = 0.032


def test_batch_mean_reduction() -> None:
    got = texts(
        {
            "network": {"widths": [1, 1], "head": "identity", "loss": "half_sse"},
            "data": {"x": [[1.0], [3.0]], "y": [[0.0], [0.0]], "reduction": "mean"},
            "parameters": {"W1": [[0.5]], "b1": [0.0]},
            "rounding": {"digits": 4},
        }
    )
    assert got["z1"] == ["0.5000", "1.5000"]
    assert got["losses"] == ["0.1250", "1.1250"]
    assert got["loss"] == ["0.6250"]
    assert got["dyhat"] == ["0.2500", "0.7500"]  # (ŷ - y) / N
    assert got["dW1"] == ["2.5000"]  # 0.25 * 1 + 0.75 * 3
    assert got["db1"] == ["1.0000"]


def test_batch_sum_reduction() -> None:
    got = texts(
        {
            "network": {"widths": [1, 1], "head": "identity", "loss": "half_sse"},
            "data": {"x": [[1.0], [3.0]], "y": [[0.0], [0.0]], "reduction": "sum"},
            "parameters": {"W1": [[0.5]], "b1": [0.0]},
        }
    )
    assert got["loss"] == ["1.2500"]
    assert got["dW1"] == ["5.0000"]


def test_given_numbers_are_rounded_first() -> None:
    got = texts(
        {
            "network": {"widths": [1, 1], "head": "identity", "loss": "mse"},
            "data": {"x": [0.12345], "y": [0.5]},
            "parameters": {"W1": [[0.98765]], "b1": [0.00005]},
            "rounding": {"digits": 3},
        }
    )
    assert got["h0"] == ["0.123"]
    assert got["W1"] == ["0.988"]
    assert got["b1"] == ["0.000"]
    assert got["z1"] == ["0.122"]  # 0.988 * 0.123 = 0.121524


def test_sigmoid_derivative_reads_written_h() -> None:
    got = texts(
        {
            "network": {
                "widths": [1, 1, 1],
                "activation": "sigmoid",
                "head": "identity",
                "loss": "half_sse",
            },
            "data": {"x": [0.0], "y": [0.0]},
            "parameters": {"W1": [[1.0]], "b1": [0.0], "W2": [[1.0]], "b2": [0.0]},
            "rounding": {"digits": 4},
        }
    )
    assert got["h1"] == ["0.5000"]
    assert got["dhdz1"] == ["0.2500"]  # h (1 - h)


def test_residual_layer_by_hand() -> None:
    got = texts(
        {
            "network": {
                "widths": [1, 1, 1, 1],
                "activation": "relu",
                "head": "identity",
                "loss": "half_sse",
                "residual": [2],
            },
            "data": {"x": [1.0], "y": [0.0]},
            "parameters": {
                "W1": [[2.0]],
                "b1": [0],
                "W2": [[0.5]],
                "b2": [0],
                "W3": [[1.0]],
                "b3": [0],
            },
            "rounding": {"digits": 2},
        }
    )
    assert got["h1"] == ["2.00"]
    assert got["a2"] == ["1.00"]  # relu(z2) with z2 = 0.5 * 2
    assert got["h2"] == ["3.00"]  # a2 + h1: the skip connection
    assert got["loss"] == ["4.50"]
    assert got["dh2"] == ["3.00"] and got["dz2"] == ["3.00"]
    assert got["dh1_W"] == ["1.50"]  # (W2)^T dz2, the path through W2
    assert got["dh1"] == ["4.50"]  # plus dL/dh2 along the skip path
    assert got["dW1"] == ["4.50"]


def test_temperature_by_hand() -> None:
    got = texts(
        {
            "network": {"widths": [1, 2], "temperature": 2},
            "data": {"x": [1.0], "label": 1},
            "parameters": {"W1": [[0.0], [2.0]], "b1": [0, 0]},
            "rounding": {"digits": 4},
        }
    )
    assert got["T"] == ["2.0000"]
    assert got["zT"] == ["0.0000", "1.0000"]  # z / T
    assert got["exp_z"] == ["1.0000", "2.7183"]
    assert got["yhat"] == ["0.2689", "0.7311"]  # 1 / 3.7183 = 0.268939...
    assert got["loss"] == ["1.3134"]  # -ln 0.2689
    assert got["dzT"] == ["-0.7311", "0.7311"]  # ŷ - y, in z / T
    assert got["dz1"] == ["-0.3656", "0.3656"]  # divided by T once more: -0.36555 -> -0.3656
