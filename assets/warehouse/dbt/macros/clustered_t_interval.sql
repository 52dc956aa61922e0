{#
Half-width of the 95 % interval of a mean of answers (METRICS.md, shared rules), the one rule
of feedback_scores, nps and survey_change: t with G - 1 degrees of freedom, standard error
clustered by respondent. The model gives, per group, SQL expressions for
  n              N, the answers (or pairs) of the group
  total          T, the sum of their values
  respondents    G, the respondents (clusters)
  squares        sum over respondents g of S_g^2, S_g the sum of g's values
  cross          sum over respondents of n_g S_g, n_g g's answers
  count_squares  sum over respondents of n_g^2
all integers. With u_g = S_g - n_g T / N (the sum of g's deviations from the mean),
N^2 sum(u_g^2) = N^2 sum(S_g^2) - 2 N T sum(n_g S_g) + T^2 sum(n_g^2), exact in HUGEINT, so
the half-width is t_quantile_975(G - 1) x sqrt(G / (G - 1) x N^2 sum(u_g^2)) / N^2.
NULL when G < 2. t_quantile_975 is registered on the connection (assets/warehouse/sql_functions.py).
#}
{% macro clustered_t_half_width(n, total, respondents, squares, cross, count_squares) -%}
CASE
    WHEN {{ respondents }} >= 2
        THEN t_quantile_975({{ respondents }} - 1)
        * sqrt(
            {{ respondents }} / ({{ respondents }} - 1)
            * CAST(
                {{ n }}::HUGEINT * {{ n }} * {{ squares }}
                - 2 * {{ n }}::HUGEINT * {{ total }} * {{ cross }}
                + {{ total }}::HUGEINT * {{ total }} * {{ count_squares }}
                AS DOUBLE
            )
        )
        / ({{ n }} * {{ n }})
END
{%- endmacro %}
