"""Homework 6's code question: what students see and submit (statement, starter code with the names and signatures the
grader calls, public checks) and the points of each graded check. The grading itself (probes, references,
comparisons) is the autograder's: `autograder/assignments/hw6.py`."""

from ..code import StudentAssignment, StudentQuestion

HW6_Q1 = '''class CNN(nn.Module):
    """A CNN for 1x28x28 digits with 10 outputs (logits), layers in this order:

        Conv2d(1, 20, 4, stride=1, padding=1) -> ReLU      1x28x28 -> 20x27x27
        Conv2d(20, 20, 4, stride=2)           -> ReLU      -> 20x12x12
        MaxPool2d(2)                                       -> 20x6x6
        Flatten                                            -> 720
        Linear(720, 360)                      -> ReLU
        Linear(360, 10)                                    -> 10 logits

    forward(x): x of shape (B, 1, 28, 28) -> (B, 10).
    """

    def __init__(self):
        super().__init__()
        raise NotImplementedError

    def forward(self, x):
        raise NotImplementedError
'''

CODE = StudentAssignment("hw6", "Homework 6: a CNN for digits", "import torch\nfrom torch import nn", [
    StudentQuestion(
        "q1", {"structure": 3, "output": 3, "gradients": 2, "training": 2}, "A CNN for 28x28 digits",
        "Build the CNN exactly as its docstring lists the layers (Homework 7's decoder inverts this stack).",
        HW6_Q1,
        [("isinstance(CNN(), nn.Module)", "True"),
         ("tuple(CNN().eval()(torch.zeros(2, 1, 28, 28)).shape)", "(2, 10)"),
         ("sum(p.numel() for p in CNN().parameters())", "269930")]),
])
