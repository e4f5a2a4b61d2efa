# Reference values for analysis.design.design_rates, computed with R's survey package.
#
#   cd tests/analysis/reference && Rscript design_reference.R
#
# Writes design_sample.csv (the respondents: one row each) and design_reference.csv (the estimates).
# The tests read both files; they never run R. R 4.x, survey 4.1.1 (Debian r-cran-survey).
suppressMessages(library(survey))
options(survey.lonely.psu = "certainty")
set.seed(20261202)

# Three districts (strata), 6-8 communities each (clusters), interviewers working across the
# communities of their own district, unequal weights by age group x sex cell, four items per
# respondent whose answers share a community effect and a person effect.
rows <- list()
id <- 0
for (d in 1:3) {
  n_comm <- c(6, 8, 7)[d]
  for (c in 1:n_comm) {
    size <- sample(12:30, 1)
    community_effect <- rnorm(1, 0, 0.6)
    for (i in 1:size) {
      id <- id + 1
      age <- sample(c("18_39", "40_59", "60_plus"), 1, prob = c(0.25, 0.3, 0.45))
      sex <- sample(c("female", "male"), 1, prob = c(0.6, 0.4))
      person <- rnorm(1, 0, 0.8)
      p <- plogis(2.4 + 0.3 * d + community_effect + person)
      answered <- runif(4) < 0.9
      answered[1] <- TRUE
      answers <- (runif(4) < p) & answered
      rows[[id]] <- data.frame(
        id = id, district = d, community = sprintf("C%d%02d", d, c),
        interviewer = sprintf("I%d", sample(1:3, 1)),  # "I1" recurs in every district: nest = TRUE
        age_group = age, sex = sex, valid = sum(answered), positive = sum(answers),
        item1 = as.integer(answers[1])
      )
    }
  }
}
sample_df <- do.call(rbind, rows)
cell_weight <- c("18_39.female" = 1.9, "18_39.male" = 2.6, "40_59.female" = 1.1, "40_59.male" = 1.4,
                 "60_plus.female" = 0.55, "60_plus.male" = 0.8)
sample_df$weight <- unname(cell_weight[paste(sample_df$age_group, sample_df$sex, sep = ".")]) *
  c(900, 400, 250)[sample_df$district]
# One respondent with no valid answer to the pooled indicator: outside its domain, inside the design.
sample_df$valid[7] <- 0
sample_df$positive[7] <- 0
write.csv(sample_df, "design_sample.csv", row.names = FALSE)

designs <- list(
  none = svydesign(ids = ~1, weights = ~weight, data = sample_df),
  strata = svydesign(ids = ~1, strata = ~district, weights = ~weight, data = sample_df),
  strata_community = svydesign(ids = ~community, strata = ~district, weights = ~weight, data = sample_df,
                               nest = TRUE),
  strata_interviewer = svydesign(ids = ~interviewer, strata = ~district, weights = ~weight, data = sample_df,
                                 nest = TRUE),
  community = svydesign(ids = ~community, weights = ~weight, data = sample_df)
)

out <- list()
for (name in names(designs)) {
  des <- designs[[name]]
  # Pooled indicator: ratio of positive to valid answers, whole city and by district (domains).
  ratio <- svyratio(~positive, ~valid, des)
  out[[length(out) + 1]] <- data.frame(design = name, domain = "all", estimate = "ratio",
                                       rate = coef(ratio)[1], se = SE(ratio)[1], ci_low = NA, ci_high = NA,
                                       df = degf(des))
  by_district <- svyby(~positive, ~district, des, svyratio, denominator = ~valid)
  out[[length(out) + 1]] <- data.frame(design = name, domain = as.character(by_district$district),
                                       estimate = "ratio", rate = coef(by_district), se = SE(by_district),
                                       ci_low = NA, ci_high = NA, df = NA)
  # A single item: weighted proportion and the Korn-Graubard interval (Clopper-Pearson on the
  # effective sample size with the degrees-of-freedom adjustment) at 95 % and 90 %.
  m <- svymean(~item1, des)
  for (level in c(0.95, 0.90)) {
    ci <- svyciprop(~I(item1 == 1), des, method = "beta", level = level)
    out[[length(out) + 1]] <- data.frame(design = name, domain = "all", estimate = sprintf("item1_%d", level * 100),
                                         rate = coef(m)[1], se = SE(m)[1], ci_low = confint(ci)[1],
                                         ci_high = confint(ci)[2], df = degf(des))
  }
  by_item <- svyby(~item1, ~district, des, svymean)
  out[[length(out) + 1]] <- data.frame(design = name, domain = as.character(by_item$district),
                                       estimate = "item1", rate = coef(by_item), se = SE(by_item),
                                       ci_low = NA, ci_high = NA, df = NA)
}
result <- do.call(rbind, out)
numeric <- vapply(result, is.numeric, TRUE)
result[numeric] <- lapply(result[numeric], function(v) ifelse(is.na(v), "", sprintf("%.17g", v)))
write.csv(result, "design_reference.csv", row.names = FALSE, quote = FALSE)
