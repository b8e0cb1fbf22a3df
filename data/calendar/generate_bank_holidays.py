#!/usr/bin/env python3
"""Writes bank_holidays_england_and_wales.csv (run from anywhere; output on stdout).

Regular holidays follow the Banking and Financial Dealings Act 1971, Schedule 1, and the
annual royal proclamations that have settled into fixed rules; the one-off and moved
holidays are listed by hand from their proclamations. Years after LAST_PUBLISHED_YEAR are
marked `projected`: GOV.UK had not yet published them, so they are what the rules give and
a future proclamation could still change them. Not part of the build: the CSV is committed.

    python3 data/calendar/generate_bank_holidays.py > data/calendar/bank_holidays_england_and_wales.csv
"""
import datetime as dt

FIRST_YEAR = 2015
LAST_YEAR = 2030
LAST_PUBLISHED_YEAR = 2027  # GOV.UK's england-and-wales list ran to December 2027 when written

# (date, name, kind) for holidays that are not the rule's, and the rule dates they replace.
SPECIAL = {
    2020: ([(dt.date(2020, 5, 8), "Early May bank holiday (VE day)", "moved")],
           [dt.date(2020, 5, 4)]),
    2022: ([(dt.date(2022, 6, 2), "Spring bank holiday", "moved"),
            (dt.date(2022, 6, 3), "Platinum Jubilee bank holiday", "one-off"),
            (dt.date(2022, 9, 19), "Bank Holiday for the State Funeral of Queen Elizabeth II", "one-off")],
           [dt.date(2022, 5, 30)]),
    2023: ([(dt.date(2023, 5, 8), "Bank holiday for the coronation of King Charles III", "one-off")],
           []),
}

SAT, SUN = 5, 6


def easter_sunday(year):
    """Gregorian Easter Sunday by the anonymous (Meeus/Jones/Butcher) computus."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def first_monday(year, month):
    d = dt.date(year, month, 1)
    return d + dt.timedelta(days=(0 - d.weekday()) % 7)


def last_monday(year, month):
    d = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return d - dt.timedelta(days=d.weekday())


def next_weekday_not_in(d, taken):
    while d.weekday() in (SAT, SUN) or d in taken:
        d += dt.timedelta(days=1)
    return d


def rule_holidays(year):
    out = []
    new_year = dt.date(year, 1, 1)
    if new_year.weekday() in (SAT, SUN):
        out.append((next_weekday_not_in(new_year, set()), "New Year's Day (substitute day)", "substitute"))
    else:
        out.append((new_year, "New Year's Day", "regular"))
    easter = easter_sunday(year)
    out.append((easter - dt.timedelta(days=2), "Good Friday", "regular"))
    out.append((easter + dt.timedelta(days=1), "Easter Monday", "regular"))
    out.append((first_monday(year, 5), "Early May bank holiday", "regular"))
    out.append((last_monday(year, 5), "Spring bank holiday", "regular"))
    out.append((last_monday(year, 8), "Summer bank holiday", "regular"))
    # A Christmas Day or Boxing Day at a weekend moves to the next weekday not already a
    # holiday (2016: Boxing Day Mon 26, so Christmas moves to Tue 27).
    christmas = [(dt.date(year, 12, day), name) for day, name in ((25, "Christmas Day"), (26, "Boxing Day"))]
    taken = {d for d, _ in christmas if d.weekday() not in (SAT, SUN)}
    for d, name in christmas:
        if d in taken:
            out.append((d, name, "regular"))
        else:
            d = next_weekday_not_in(d, taken)
            out.append((d, name + " (substitute day)", "substitute"))
            taken.add(d)
    return out


def year_holidays(year):
    extra, dropped = SPECIAL.get(year, ([], []))
    days = [h for h in rule_holidays(year) if h[0] not in dropped] + extra
    days.sort()
    assert len({d for d, _, _ in days}) == len(days), year
    assert all(d.weekday() < SAT for d, _, _ in days), year
    return days


def main():
    print("# Bank holidays in England and Wales, %d-%d." % (FIRST_YEAR, LAST_YEAR))
    print("# Source: GOV.UK, \"UK bank holidays\", england-and-wales division,"
          " https://www.gov.uk/bank-holidays (and https://www.gov.uk/bank-holidays.json).")
    print("# Rules: Banking and Financial Dealings Act 1971, Schedule 1,"
          " https://www.legislation.gov.uk/ukpga/1971/80/schedule/1 ; New Year's Day,"
          " Early May and the weekend substitutes for Christmas by annual royal proclamation.")
    print("# One-offs and moves by royal proclamation (The Gazette, https://www.thegazette.co.uk):"
          " 2020 early May moved to Fri 8 May (75th anniversary of VE Day);"
          " 2022 spring moved to Thu 2 June, Platinum Jubilee Fri 3 June;"
          " 2022-09-19 State Funeral of Queen Elizabeth II; 2023-05-08 Coronation of King Charles III.")
    print("# Easter by the Gregorian computus (Good Friday = Easter Sunday - 2, Easter Monday = + 1).")
    print("# kind: regular | substitute (weekday in lieu of a weekend holiday) | one-off | moved.")
    print("# status: published (listed by GOV.UK) | projected (after %d: the statutory rules,"
          " not yet published; a proclamation may still change it)." % LAST_PUBLISHED_YEAR)
    print("# Names follow GOV.UK titles (ASCII apostrophe). Generated by generate_bank_holidays.py.")
    print("date,name,kind,status")
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        status = "published" if year <= LAST_PUBLISHED_YEAR else "projected"
        for d, name, kind in year_holidays(year):
            print("%s,%s,%s,%s" % (d.isoformat(), name, kind, status))


if __name__ == "__main__":
    main()
